package helpdesk

import (
	"fmt"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// ticketNote is POST /helpdesk/tickets/{n}/note: an internal note, never mailed.
func (s *Service) ticketNote(w http.ResponseWriter, r *http.Request) {
	n, err := pathInt(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	files, err := readForm(w, r)
	text := r.PostFormValue("text")
	if err == nil {
		_, err = s.AddNote(r.Context(), rocca.UserFromContext(r.Context()), n, text, files)
	}
	if err != nil {
		s.renderTicket(w, r, formStatus(err), ticketForm{Note: text, Error: s.message(r, err), Section: "note"})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/helpdesk/tickets/%d?done=note", n), http.StatusSeeOther)
}
