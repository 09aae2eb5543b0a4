package helpdesk

import (
	"fmt"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// ticketUpdate is POST /helpdesk/tickets/{n}/update: status, priority and category.
func (s *Service) ticketUpdate(w http.ResponseWriter, r *http.Request) {
	n, err := pathInt(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var c Changes
	if v := r.PostFormValue("status"); v != "" {
		c.Status, err = ParseStatus(v)
	}
	if v := r.PostFormValue("priority"); v != "" && err == nil {
		c.Priority, err = ParsePriority(v)
	}
	if _, ok := r.PostForm["category"]; ok {
		cat := r.PostFormValue("category")
		c.Category = &cat
	}
	if err == nil {
		err = s.Update(r.Context(), rocca.UserFromContext(r.Context()), n, c)
	}
	if err != nil {
		s.renderTicket(w, r, formStatus(err), ticketForm{Error: s.message(r, err), Section: "update"})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/helpdesk/tickets/%d?done=update", n), http.StatusSeeOther)
}
