package helpdesk

import (
	"fmt"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// quarantineRelease is POST /admin/helpdesk/quarantine/{id}/release: the mail becomes a ticket.
func (s *Service) quarantineRelease(w http.ResponseWriter, r *http.Request) {
	id, err := pathInt(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.Release(r.Context(), rocca.UserFromContext(r.Context()), id)
	if err != nil {
		s.renderQuarantine(w, r, formStatus(err), quarantineData{Error: s.message(r, err)})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/helpdesk/tickets/%d", n), http.StatusSeeOther)
}
