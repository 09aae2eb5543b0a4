package helpdesk

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/adminapi"
)

// ListRequest is the query of `rocca ticket list`.
type ListRequest struct {
	Status string `json:"status,omitempty"` // a status (Italian or English), "all", or "" for the active ones
	Limit  int    `json:"limit,omitempty"`
}

// AdminList returns tickets for the CLI: the active ones by default.
func (s *Service) AdminList(ctx context.Context, req ListRequest) ([]*Ticket, error) {
	f := Filter{Limit: req.Limit}
	switch req.Status {
	case "":
		f.Statuses = ActiveStatuses()
	case "all", "tutti":
	default:
		st, err := ParseStatus(req.Status)
		if err != nil {
			return nil, err
		}
		f.Statuses = []Status{st}
	}
	list, err := listTickets(ctx, s.db, f)
	if err != nil {
		return nil, err
	}
	s.fillNames(ctx, list...)
	if list == nil {
		list = []*Ticket{}
	}
	return list, nil
}

// AdminShow returns a whole ticket for the CLI, notes and automatic mail included.
func (s *Service) AdminShow(ctx context.Context, n int64) (*TicketView, error) {
	return s.ticketView(ctx, n, true)
}

// AdminRoutes registers the admin-socket routes of `rocca ticket list|show`:
// GET /v1/tickets?status=S&limit=N and GET /v1/tickets/{n}.
func (s *Service) AdminRoutes(srv interface{ Handle(string, http.Handler) }, logger *slog.Logger) {
	srv.Handle("GET /v1/tickets", adminapi.Func(logger, func(ctx context.Context, r *http.Request, _ struct{}) ([]*Ticket, error) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		return s.AdminList(ctx, ListRequest{Status: r.URL.Query().Get("status"), Limit: limit})
	}))
	srv.Handle("GET /v1/tickets/{n}", adminapi.Func(logger, func(ctx context.Context, r *http.Request, _ struct{}) (*TicketView, error) {
		n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
		if err != nil || n <= 0 {
			return nil, rocca.Localized(rocca.EINVALID, "helpdesk.error.ticket_number", "the ticket number must be a positive whole number")
		}
		return s.AdminShow(ctx, n)
	}))
}
