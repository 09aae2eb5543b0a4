package conferencing

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/adminapi"
)

// ListRequest is the body of GET /v1/meetings (all optional; also as query parameters
// ?all=1&limit=N).
type ListRequest struct {
	All   bool `json:"all,omitempty"` // include meetings that ended or are long past
	Limit int  `json:"limit,omitempty"`
}

// AdminRoutes registers the operations behind `rocca meeting create|list` on the admin socket:
//
//	POST /v1/meetings  NewMeeting  -> Meeting (its Link is what to print)
//	GET  /v1/meetings  ListRequest -> []Meeting
//
// Meetings created there have no host unless HostEmails names some: then every staff member who
// joins runs them.
func (s *Service) AdminRoutes(h interface {
	Handle(pattern string, h http.Handler)
}, logger *slog.Logger) {
	h.Handle("POST /v1/meetings", adminapi.Func(logger, func(ctx context.Context, _ *http.Request, in NewMeeting) (*Meeting, error) {
		return s.CreateMeeting(ctx, rocca.UserFromContext(ctx), in)
	}))
	h.Handle("GET /v1/meetings", adminapi.Func(logger, func(ctx context.Context, r *http.Request, in ListRequest) ([]*Meeting, error) {
		q := r.URL.Query()
		in.All = in.All || q.Get("all") == "1" || q.Get("all") == "true"
		if n, err := strconv.Atoi(q.Get("limit")); err == nil {
			in.Limit = n
		}
		f := MeetingFilter{Limit: in.Limit}
		if !in.All {
			f.Since = s.now()
		}
		ms, err := s.Meetings(ctx, f)
		if ms == nil {
			ms = []*Meeting{}
		}
		return ms, err
	}))
}
