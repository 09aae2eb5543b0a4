package vpn

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca"
)

// adminSettingsUpdate saves the VPN policies.
func (s *Service) adminSettingsUpdate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	set := Settings{
		Preset:       f.Get("preset"),
		SearchDomain: strings.TrimSpace(f.Get("search_domain")),
		SelfService:  f.Get("self_service") == "1",
		UsePSK:       f.Get("psk") == "1",
	}
	custom := f.Get("custom_ranges")
	err := parseRanges(custom, &set)
	for _, n := range []struct {
		field string
		dst   *int
	}{{"max_devices", &set.MaxDevices}, {"link_hours", &set.LinkHours}, {"default_days", &set.DefaultDays}, {"log_days", &set.LogDays}} {
		v, perr := strconv.Atoi(strings.TrimSpace(f.Get(n.field)))
		if perr != nil {
			v = -1 // Validate names the field
		}
		*n.dst = v
	}
	if err == nil {
		err = s.UpdateSettings(r.Context(), set)
	}
	if err != nil {
		if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
			s.fail(w, r, err)
			return
		}
		s.renderNetwork(w, r, formStatus(err), networkData{Settings: set, Custom: custom, Error: s.message(r, err)})
		return
	}
	http.Redirect(w, r, "/admin/vpn?done=saved", http.StatusSeeOther)
}

// parseRanges reads comma- or space-separated IPv4 networks.
func parseRanges(s string, set *Settings) error {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil || !p.Addr().Is4() {
			return rocca.Localized(rocca.EINVALID, "vpn.error.range", f+" is not an IPv4 network such as 192.168.1.0/24", f)
		}
		set.CustomRanges = append(set.CustomRanges, p.Masked())
	}
	return nil
}
