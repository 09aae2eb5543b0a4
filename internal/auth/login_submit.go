package auth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// loginSubmit checks e-mail and password. On success it starts a fresh session (a session id
// that existed before is dropped) and goes on to next, or to the TOTP step for accounts with a
// second factor. Failures show the form again with one message for every kind of wrong input.
func (s *Service) loginSubmit(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := web.SafeNext(r.PostFormValue("next"))
	ip := requestIP(r)
	a, err := s.authenticate(r.Context(), email, r.PostFormValue("password"), ip)
	if err != nil {
		if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
			s.fail(w, r, err)
			return
		}
		setRetryAfter(w, err)
		s.render.Render(w, r, formStatus(err), "login", loginData{Email: email, Next: next, Error: s.message(r, err)})
		return
	}
	old := ""
	if c, err := r.Cookie(CookieName); err == nil {
		old = c.Value
	}
	raw, err := s.createSession(r.Context(), a.ID, ip, r.UserAgent(), false, old)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, raw)
	if a.TOTP {
		s.auditAs(r.Context(), a.Email, a.ID, "login.password_ok", map[string]any{"email": a.Email, "second_factor": "pending"})
		http.Redirect(w, r, "/login/totp?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	s.auditAs(r.Context(), a.Email, a.ID, "login.success", map[string]any{"email": a.Email})
	s.logger.Info("signed in", "email", a.Email, "ip", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}
