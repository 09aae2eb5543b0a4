package vpn

import "net/http"

// adminDevicesRevoke revokes any device at once.
func (s *Service) adminDevicesRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Revoke(r.Context(), id)
	}
	if err != nil {
		s.adminDevicesFailed(w, r, err, adminDevicesData{Form: adminDeviceForm{Delivery: "email"}})
		return
	}
	http.Redirect(w, r, "/admin/vpn/devices?done=revoked", http.StatusSeeOther)
}
