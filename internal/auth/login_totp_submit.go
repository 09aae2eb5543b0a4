package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// loginTOTPSubmit checks the authenticator code of a session that passed the password step. On
// success the session is replaced by a new one marked as second-factor verified.
func (s *Service) loginTOTPSubmit(w http.ResponseWriter, r *http.Request) {
	next := web.SafeNext(r.PostFormValue("next"))
	st := stateFrom(r.Context())
	if st == nil || !st.pending {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	a, ip := st.account, requestIP(r)
	if err := s.secondFactor(r.Context(), a, r.PostFormValue("code"), ip); err != nil {
		if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
			s.fail(w, r, err)
			return
		}
		setRetryAfter(w, err)
		s.render.Render(w, r, formStatus(err), "login_totp", totpData{Next: next, Error: s.message(r, err)})
		return
	}
	raw, err := s.createSession(r.Context(), a.ID, ip, r.UserAgent(), true, st.sessionID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, raw)
	s.auditAs(r.Context(), a.Email, a.ID, "login.success", map[string]any{"email": a.Email, "second_factor": true})
	s.logger.Info("signed in", "email", a.Email, "ip", ip, "second_factor", true)
	http.Redirect(w, r, next, http.StatusSeeOther)
}
