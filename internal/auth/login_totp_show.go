package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// totpData is the dot's Data of login_totp.html.
type totpData struct {
	Next   string
	Error  string
	Notice string
}

// loginTOTPShow asks for the authenticator code after the password step.
func (s *Service) loginTOTPShow(w http.ResponseWriter, r *http.Request) {
	next := web.SafeNext(r.URL.Query().Get("next"))
	if rocca.UserFromContext(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if st := stateFrom(r.Context()); st == nil || !st.pending {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render.Render(w, r, http.StatusOK, "login_totp", totpData{Next: next})
}
