package helpdesk

import (
	"fmt"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// ticketReply is POST /helpdesk/tickets/{n}/reply: the answer goes to the requester by mail.
func (s *Service) ticketReply(w http.ResponseWriter, r *http.Request) {
	n, err := pathInt(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	files, err := readForm(w, r)
	text := r.PostFormValue("text")
	if err == nil {
		var st Status
		if v := r.PostFormValue("status"); v != "" {
			st, err = ParseStatus(v)
		}
		if err == nil {
			_, err = s.Reply(r.Context(), rocca.UserFromContext(r.Context()), n, text, files, st)
		}
	}
	if err != nil {
		s.renderTicket(w, r, formStatus(err), ticketForm{Reply: text, Error: s.message(r, err), Section: "reply"})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/helpdesk/tickets/%d?done=reply", n), http.StatusSeeOther)
}
