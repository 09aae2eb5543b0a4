package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// devicesRekey is "download again": a new key pair for an own device, shown once.
func (s *Service) devicesRekey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.RekeyMine(r.Context(), rocca.UserFromContext(r.Context()), id)
	if err != nil {
		s.devicesFailed(w, r, err, devicesData{Form: deviceForm{Delivery: "now"}})
		return
	}
	s.showDelivery(w, r, http.StatusOK, d, "/vpn/devices")
}
