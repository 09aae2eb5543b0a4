package vpn

import (
	"errors"
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// linkLogPath stands for the link pages in the access log: the token is a credential.
const linkLogPath = "/vpn/link/…"

// linkData is the dot's Data of vpn_link.html.
type linkData struct {
	Token string
}

// linkShow is the page a one-time link opens: what will happen and how to set up each platform,
// with the button that reveals the configuration. Opening it uses nothing, so mail scanners that
// follow links do not spend it.
func (s *Service) linkShow(w http.ResponseWriter, r *http.Request) {
	web.LogPath(r, linkLogPath)
	ip := requestIP(r)
	if !s.limiter.allowed(ip) {
		s.linkFailed(w, r, errLinkRate())
		return
	}
	token := r.PathValue("token")
	if err := s.CheckLink(r.Context(), token); err != nil {
		if errors.Is(err, errUnknownLink) {
			s.limiter.fail(ip)
		}
		s.linkFailed(w, r, err)
		return
	}
	s.render.Render(w, r, http.StatusOK, "vpn_link", linkData{Token: token})
}

func errLinkRate() error {
	return rocca.Localized(rocca.ERATELIMIT, "vpn.link.rate_limited", "too many invalid links from your address: try again in a few minutes")
}

// linkFailed answers a link that cannot be used: the "gone" page (410), or the error page with the
// path hidden.
func (s *Service) linkFailed(w http.ResponseWriter, r *http.Request, err error) {
	if rocca.ErrorCodeOf(err) == rocca.EGONE {
		s.render.Render(w, r, http.StatusGone, "vpn_link_gone", nil)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = linkLogPath, ""
	s.render.Error(w, r2, err)
}
