package vpn

import (
	"net/http"
	"strings"

	"github.com/rocca-pa/rocca/internal/web"
)

// networkData is the dot's Data of vpn_admin.html.
type networkData struct {
	Status   *Status
	Problem  string // Status.Problem in the reader's language
	DNS      string
	LAN      string
	MTU      int
	Keep     int
	Mode     string // configured mode
	Settings Settings
	Custom   string // the custom ranges as typed
	Notice   string
	Error    string
}

// adminNetworkShow shows the network (from rocca.toml), the interface's state and the policies.
func (s *Service) adminNetworkShow(w http.ResponseWriter, r *http.Request) {
	set, err := s.Settings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := networkData{Settings: set, Custom: joinPrefixes(set)}
	if r.URL.Query().Get("done") == "saved" {
		d.Notice = s.cat.T(web.Lang(r), "vpn.admin.done_saved")
	}
	s.renderNetwork(w, r, http.StatusOK, d)
}

func (s *Service) renderNetwork(w http.ResponseWriter, r *http.Request, status int, d networkData) {
	st, err := s.Status(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Status = st
	if st.ProblemKey != "" {
		d.Problem = s.cat.T(web.Lang(r), st.ProblemKey, st.ProblemArgs...)
	}
	d.DNS, d.LAN = strings.Join(s.cfg.DNS, ", "), strings.Join(s.cfg.LAN, ", ")
	d.MTU, d.Keep, d.Mode = s.cfg.MTU, s.cfg.Keepalive, s.cfg.Mode
	s.render.Render(w, r, status, "vpn_admin", d)
}

func joinPrefixes(set Settings) string {
	out := make([]string, len(set.CustomRanges))
	for i, p := range set.CustomRanges {
		out[i] = p.String()
	}
	return strings.Join(out, ", ")
}
