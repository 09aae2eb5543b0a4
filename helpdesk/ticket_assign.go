package helpdesk

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
)

// ticketAssign is POST /helpdesk/tickets/{n}/assign: assignee=ID, "me", or "" for nobody.
func (s *Service) ticketAssign(w http.ResponseWriter, r *http.Request) {
	n, err := pathInt(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u := rocca.UserFromContext(r.Context())
	var id int64
	switch v := r.PostFormValue("assignee"); v {
	case "":
	case "me":
		id = u.ID
	default:
		if id, err = strconv.ParseInt(v, 10, 64); err != nil || id < 0 {
			s.fail(w, r, rocca.Localized(rocca.EINVALID, "helpdesk.error.assignee", "the ticket can only be assigned to an agent"))
			return
		}
	}
	if err := s.Assign(r.Context(), u, n, id); err != nil {
		s.renderTicket(w, r, formStatus(err), ticketForm{Error: s.message(r, err), Section: "assign"})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/helpdesk/tickets/%d?done=assign", n), http.StatusSeeOther)
}
