package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// devicesCreate creates a device for the signed-in user and delivers it: the configuration now
// (QR code and file, once), or a one-time link shown or e-mailed.
func (s *Service) devicesCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	u := rocca.UserFromContext(r.Context())
	f := deviceForm{Name: r.PostForm.Get("name"), PublicKey: r.PostForm.Get("public_key"), Delivery: r.PostForm.Get("delivery")}
	d, err := s.AddMyPeer(r.Context(), u, f.Name, f.PublicKey)
	if err != nil {
		s.devicesFailed(w, r, err, devicesData{Form: f})
		return
	}
	if f.Delivery != "link" && f.Delivery != "email" || d.Peer.OwnKey {
		s.showDelivery(w, r, http.StatusCreated, d, "/vpn/devices")
		return
	}
	l, err := s.CreateMyLink(r.Context(), u, d.Peer.ID, f.Delivery == "email")
	if err != nil {
		s.devicesFailed(w, r, err, devicesData{Form: deviceForm{Delivery: f.Delivery}})
		return
	}
	s.renderDevices(w, r, http.StatusCreated, devicesData{Form: deviceForm{Delivery: f.Delivery}, Link: l,
		Notice: s.linkNotice(r, l)})
}

// linkNotice says what happened to a new link.
func (s *Service) linkNotice(r *http.Request, l *Link) string {
	if l.Emailed != "" {
		return s.cat.T(web.Lang(r), "vpn.link.emailed", l.Emailed)
	}
	return s.cat.T(web.Lang(r), "vpn.link.created")
}

// devicesFailed shows the devices page again with the error, or the error page for internal ones.
func (s *Service) devicesFailed(w http.ResponseWriter, r *http.Request, err error, d devicesData) {
	if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
		s.fail(w, r, err)
		return
	}
	d.Error = s.message(r, err)
	s.renderDevices(w, r, formStatus(err), d)
}
