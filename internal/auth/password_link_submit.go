package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// passwordLinkSubmit sets the password through a one-time link, then sends the user to sign in.
func (s *Service) passwordLinkSubmit(w http.ResponseWriter, r *http.Request) {
	web.LogPath(r, passwordLogPath)
	d := passwordLinkData{Token: r.PathValue("token")}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("password2") {
		d.Error = s.cat.T(web.Lang(r), "auth.error.password_mismatch")
		s.render.Render(w, r, http.StatusBadRequest, "password_link", d)
		return
	}
	_, err := s.usePasswordLink(r.Context(), d.Token, password)
	switch rocca.ErrorCodeOf(err) {
	case "":
		http.Redirect(w, r, "/login?done=password", http.StatusSeeOther)
	case rocca.EINVALID:
		d.Error = s.message(r, err)
		s.render.Render(w, r, http.StatusBadRequest, "password_link", d)
	default:
		s.passwordLinkFailed(w, r, err)
	}
}
