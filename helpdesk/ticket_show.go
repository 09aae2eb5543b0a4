package helpdesk

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// ticketData is the Data of ticket.html.
type ticketData struct {
	View     *TicketView
	Messages []viewMessage
	Agents   []*rocca.User
	Meta     ticketMeta
	Overdue  bool
	Form     ticketForm
}

// ticketForm keeps what the agent typed when a form is shown again, and the outcome message.
type ticketForm struct {
	Reply   string
	Note    string
	Error   string // a sentence, already translated
	Done    string // catalog key of the confirmation
	Section string // reply | note: where Error belongs
}

// ticketShow is GET /helpdesk/tickets/{n}.
func (s *Service) ticketShow(w http.ResponseWriter, r *http.Request) {
	var form ticketForm
	switch r.URL.Query().Get("done") {
	case "reply":
		form.Done = "helpdesk.ticket.done_reply"
	case "note":
		form.Done = "helpdesk.ticket.done_note"
	case "update":
		form.Done = "helpdesk.ticket.done_update"
	case "assign":
		form.Done = "helpdesk.ticket.done_assign"
	}
	s.renderTicket(w, r, http.StatusOK, form)
}

// renderTicket shows the ticket page with form.
func (s *Service) renderTicket(w http.ResponseWriter, r *http.Request, status int, form ticketForm) {
	n, err := pathInt(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u := rocca.UserFromContext(r.Context())
	v, err := s.Ticket(r.Context(), u, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	agents, err := s.Agents(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	allowRemoteImages(w)
	s.render.Render(w, r, status, "ticket", ticketData{
		View: v, Messages: viewMessages(v.Messages, true), Agents: agents, Meta: s.meta(),
		Overdue: v.Ticket.Overdue(s.now()), Form: form,
	})
}
