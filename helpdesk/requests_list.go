package helpdesk

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// requestsData is the Data of requests.html.
type requestsData struct {
	Tickets []*Ticket
	Created int64 // the ticket just opened, for the confirmation
}

// requestsList is GET /requests: "Le mie richieste".
func (s *Service) requestsList(w http.ResponseWriter, r *http.Request) {
	list, err := s.MyTickets(r.Context(), rocca.UserFromContext(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render.Render(w, r, http.StatusOK, "requests", requestsData{Tickets: list})
}
