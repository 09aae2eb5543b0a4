package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// devicesRevoke revokes an own device at once.
func (s *Service) devicesRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.RevokeMine(r.Context(), rocca.UserFromContext(r.Context()), id); err != nil {
		s.devicesFailed(w, r, err, devicesData{Form: deviceForm{Delivery: "now"}})
		return
	}
	http.Redirect(w, r, "/vpn/devices?done=revoked", http.StatusSeeOther)
}
