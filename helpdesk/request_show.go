package helpdesk

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// requestData is the Data of request.html.
type requestData struct {
	View     *TicketView
	Messages []viewMessage
	Text     string
	Error    string
	Done     string // catalog key of the confirmation
}

// requestShow is GET /requests/{n}: one of the user's requests, without internal notes.
func (s *Service) requestShow(w http.ResponseWriter, r *http.Request) {
	d := requestData{}
	switch r.URL.Query().Get("done") {
	case "created":
		d.Done = "helpdesk.request.done_created"
	case "reply":
		d.Done = "helpdesk.request.done_reply"
	}
	s.renderRequest(w, r, http.StatusOK, d)
}

func (s *Service) renderRequest(w http.ResponseWriter, r *http.Request, status int, d requestData) {
	n, err := pathInt(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.MyTicket(r.Context(), rocca.UserFromContext(r.Context()), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.View, d.Messages = v, viewMessages(v.Messages, false)
	allowRemoteImages(w)
	s.render.Render(w, r, status, "request", d)
}
