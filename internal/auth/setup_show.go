package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// The paths logged instead of those holding one-time tokens.
const (
	setupLogPath    = "/setup/…"
	passwordLogPath = "/password/…"
)

// setupData is the dot's Data of setup.html.
type setupData struct {
	Token  string
	Name   string
	Email  string
	Error  string
	Notice string
}

// setupShow shows the first-run form, or the 410 page when the link is dead.
func (s *Service) setupShow(w http.ResponseWriter, r *http.Request) {
	web.LogPath(r, setupLogPath)
	token := r.PathValue("token")
	if err := s.checkLink(r.Context(), token, purposeSetup); err != nil {
		s.setupFailed(w, r, err)
		return
	}
	s.render.Render(w, r, http.StatusOK, "setup", setupData{Token: token})
}

// setupFailed shows the "link used or expired" page for EGONE and the error page otherwise.
func (s *Service) setupFailed(w http.ResponseWriter, r *http.Request, err error) {
	if rocca.ErrorCodeOf(err) == rocca.EGONE {
		s.render.Render(w, r, http.StatusGone, "setup_gone", nil)
		return
	}
	s.failSecretPath(w, r, setupLogPath, err)
}
