package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// loginData is the dot's Data of login.html.
type loginData struct {
	Email  string
	Next   string
	Error  string
	Notice string
}

// loginShow shows the sign-in form; a signed-in user goes straight on.
func (s *Service) loginShow(w http.ResponseWriter, r *http.Request) {
	next := web.SafeNext(r.URL.Query().Get("next"))
	if rocca.UserFromContext(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d := loginData{Next: next}
	if r.URL.Query().Get("done") == "password" {
		d.Notice = s.cat.T(web.Lang(r), "auth.login.password_set")
	}
	s.render.Render(w, r, http.StatusOK, "login", d)
}
