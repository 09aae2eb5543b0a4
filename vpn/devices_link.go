package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// devicesLink makes a one-time link for an own device, shown on the page or e-mailed (email=1).
func (s *Service) devicesLink(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = r.ParseForm()
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.CreateMyLink(r.Context(), rocca.UserFromContext(r.Context()), id, r.PostForm.Get("email") == "1")
	if err != nil {
		s.devicesFailed(w, r, err, devicesData{Form: deviceForm{Delivery: "now"}})
		return
	}
	s.renderDevices(w, r, http.StatusCreated, devicesData{Form: deviceForm{Delivery: "now"}, Link: l, Notice: s.linkNotice(r, l)})
}
