package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// devicesData is the dot's Data of vpn_devices.html ("I miei dispositivi").
type devicesData struct {
	Devices   []peerRow
	CanCreate bool // the self-service policy lets this user create a device now
	Max       int
	Mail      bool // links can be e-mailed
	Form      deviceForm
	Link      *Link // a one-time link just made
	Notice    string
	Error     string
}

type deviceForm struct {
	Name      string
	PublicKey string
	Delivery  string // "now", "link" or "email"
}

// devicesList shows the signed-in user's devices and the form to add one.
func (s *Service) devicesList(w http.ResponseWriter, r *http.Request) {
	d := devicesData{Form: deviceForm{Delivery: "now"}}
	if r.URL.Query().Get("done") == "revoked" {
		d.Notice = s.cat.T(web.Lang(r), "vpn.devices.done_revoked")
	}
	s.renderDevices(w, r, http.StatusOK, d)
}

func (s *Service) renderDevices(w http.ResponseWriter, r *http.Request, status int, d devicesData) {
	u := rocca.UserFromContext(r.Context())
	peers, err := s.Peers(r.Context(), PeerFilter{UserID: u.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	set, err := s.Settings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Devices = peerRows(peers)
	d.Max = set.MaxDevices
	d.CanCreate = u.Can(rocca.RoleAdmin) || set.SelfService && len(peers) < set.MaxDevices
	d.Mail = s.mailer != nil
	s.render.Render(w, r, status, "vpn_devices", d)
}
