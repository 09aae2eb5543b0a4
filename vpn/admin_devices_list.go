package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// adminDevicesData is the dot's Data of vpn_admin_devices.html.
type adminDevicesData struct {
	Devices []peerRow
	Users   []*rocca.User // enabled users, for the form
	All     bool          // revoked and expired devices are listed too
	Mail    bool
	Form    adminDeviceForm
	Link    *Link
	Notice  string
	Error   string
}

type adminDeviceForm struct {
	Email     string
	Name      string
	PublicKey string
	Days      int
	Delivery  string // "now", "link" or "email"
}

// adminDevicesList shows every device with its status, and the form to create one for a user.
func (s *Service) adminDevicesList(w http.ResponseWriter, r *http.Request) {
	d := adminDevicesData{All: r.URL.Query().Get("all") == "1", Form: adminDeviceForm{Delivery: "email"}}
	if r.URL.Query().Get("done") == "revoked" {
		d.Notice = s.cat.T(web.Lang(r), "vpn.devices.done_revoked")
	}
	s.renderAdminDevices(w, r, http.StatusOK, d)
}

func (s *Service) renderAdminDevices(w http.ResponseWriter, r *http.Request, status int, d adminDevicesData) {
	peers, err := s.Peers(r.Context(), PeerFilter{Ended: d.All})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.users.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, u := range users {
		if !u.Disabled {
			d.Users = append(d.Users, u)
		}
	}
	d.Devices = peerRows(peers)
	d.Mail = s.mailer != nil
	s.render.Render(w, r, status, "vpn_admin_devices", d)
}

// adminDevicesFailed shows the list again with the error.
func (s *Service) adminDevicesFailed(w http.ResponseWriter, r *http.Request, err error, d adminDevicesData) {
	if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
		s.fail(w, r, err)
		return
	}
	d.Error = s.message(r, err)
	s.renderAdminDevices(w, r, formStatus(err), d)
}
