package vpn

import (
	"net/http"
	"strings"
)

// adminDevicesCreate creates a device for a user and delivers it: now (QR code and file, once),
// or as a one-time link shown or e-mailed to the user.
func (s *Service) adminDevicesCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := adminDeviceForm{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"),
		PublicKey: strings.TrimSpace(r.PostForm.Get("public_key")), Delivery: r.PostForm.Get("delivery")}
	days, err := s.expiryChoice(r)
	if err != nil {
		s.adminDevicesFailed(w, r, err, adminDevicesData{Form: f})
		return
	}
	f.Days = days
	in := NewPeer{User: f.Email, Name: f.Name, PublicKey: f.PublicKey}
	if days > 0 {
		in.ExpiresAt = s.clock.Now().AddDate(0, 0, days)
	}
	d, err := s.AddPeer(r.Context(), in)
	if err != nil {
		s.adminDevicesFailed(w, r, err, adminDevicesData{Form: f})
		return
	}
	if f.Delivery != "link" && f.Delivery != "email" || d.Peer.OwnKey {
		s.showDelivery(w, r, http.StatusCreated, d, "/admin/vpn/devices")
		return
	}
	l, err := s.createLink(r.Context(), d.Peer, f.Delivery == "email")
	if err != nil {
		s.adminDevicesFailed(w, r, err, adminDevicesData{Form: adminDeviceForm{Delivery: f.Delivery}})
		return
	}
	s.renderAdminDevices(w, r, http.StatusCreated, adminDevicesData{Form: adminDeviceForm{Delivery: f.Delivery}, Link: l, Notice: s.linkNotice(r, l)})
}
