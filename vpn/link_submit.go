package vpn

import (
	"errors"
	"net/http"

	"github.com/rocca-pa/rocca/internal/web"
)

// linkSubmit uses a one-time link: the first request gets the configuration with a new key pair
// (QR code, file and text on one page, never served again; with format=conf the bare .conf file,
// for wg-quick and scripts); any other gets 410 and a page that says what to do.
func (s *Service) linkSubmit(w http.ResponseWriter, r *http.Request) {
	web.LogPath(r, linkLogPath)
	ip := requestIP(r)
	if !s.limiter.allowed(ip) {
		s.linkFailed(w, r, errLinkRate())
		return
	}
	d, err := s.UseLink(r.Context(), r.PathValue("token"))
	if err != nil {
		if errors.Is(err, errUnknownLink) {
			s.limiter.fail(ip)
		}
		s.linkFailed(w, r, err)
		return
	}
	if r.FormValue("format") == "conf" {
		serveConfig(w, d)
		return
	}
	s.showDelivery(w, r, http.StatusOK, d, "")
}
