package helpdesk

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// quarantineDiscard is POST /admin/helpdesk/quarantine/{id}/discard.
func (s *Service) quarantineDiscard(w http.ResponseWriter, r *http.Request) {
	id, err := pathInt(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Discard(r.Context(), rocca.UserFromContext(r.Context()), id); err != nil {
		s.renderQuarantine(w, r, formStatus(err), quarantineData{Error: s.message(r, err)})
		return
	}
	http.Redirect(w, r, "/admin/helpdesk/quarantine?done=discarded", http.StatusSeeOther)
}
