package vpn

import "net/http"

// adminDevicesLink makes a one-time link for a device, shown or e-mailed to its owner (email=1).
func (s *Service) adminDevicesLink(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = r.ParseForm()
	}
	var l *Link
	if err == nil {
		l, err = s.CreateLink(r.Context(), id, r.PostForm.Get("email") == "1")
	}
	if err != nil {
		s.adminDevicesFailed(w, r, err, adminDevicesData{Form: adminDeviceForm{Delivery: "email"}})
		return
	}
	s.renderAdminDevices(w, r, http.StatusCreated, adminDevicesData{Form: adminDeviceForm{Delivery: "email"}, Link: l, Notice: s.linkNotice(r, l)})
}
