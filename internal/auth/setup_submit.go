package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// setupSubmit creates the first admin from the first-run form and signs them in.
func (s *Service) setupSubmit(w http.ResponseWriter, r *http.Request) {
	web.LogPath(r, setupLogPath)
	token := r.PathValue("token")
	d := setupData{Token: token, Name: r.PostFormValue("name"), Email: r.PostFormValue("email")}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("password2") {
		d.Error = s.cat.T(web.Lang(r), "auth.error.password_mismatch")
		s.render.Render(w, r, http.StatusBadRequest, "setup", d)
		return
	}
	u, err := s.completeSetup(r.Context(), token, NewUser{Email: d.Email, Name: d.Name, Password: password})
	switch code := rocca.ErrorCodeOf(err); code {
	case "":
	case rocca.EINVALID, rocca.ECONFLICT:
		d.Error = s.message(r, err)
		s.render.Render(w, r, formStatus(err), "setup", d)
		return
	default:
		s.setupFailed(w, r, err)
		return
	}
	ip := requestIP(r)
	raw, err := s.createSession(r.Context(), u.ID, ip, r.UserAgent(), false, "")
	if err != nil {
		s.failSecretPath(w, r, setupLogPath, err)
		return
	}
	s.setSessionCookie(w, raw)
	s.auditAs(r.Context(), u.Email, u.ID, "login.success", map[string]any{"email": u.Email, "via": "setup"})
	s.logger.Info("first administrator created", "email", u.Email, "ip", ip)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
