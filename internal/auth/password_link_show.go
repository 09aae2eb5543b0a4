package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// passwordLinkData is the dot's Data of password_link.html.
type passwordLinkData struct {
	Token  string
	Error  string
	Notice string
}

// passwordLinkShow shows the set-password form of a one-time link.
func (s *Service) passwordLinkShow(w http.ResponseWriter, r *http.Request) {
	web.LogPath(r, passwordLogPath)
	token := r.PathValue("token")
	if err := s.checkLink(r.Context(), token, purposePassword); err != nil {
		s.passwordLinkFailed(w, r, err)
		return
	}
	s.render.Render(w, r, http.StatusOK, "password_link", passwordLinkData{Token: token})
}

func (s *Service) passwordLinkFailed(w http.ResponseWriter, r *http.Request, err error) {
	if rocca.ErrorCodeOf(err) == rocca.EGONE {
		s.render.Render(w, r, http.StatusGone, "password_link_gone", nil)
		return
	}
	s.failSecretPath(w, r, passwordLogPath, err)
}
