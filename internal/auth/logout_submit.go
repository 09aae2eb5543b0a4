package auth

import (
	"net/http"
)

// logoutSubmit ends the session on the server, clears the cookie and goes to the sign-in page.
func (s *Service) logoutSubmit(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if st := stateFrom(r.Context()); st != nil && st.account != nil {
			s.auditAs(r.Context(), st.account.Email, st.account.ID, "logout", map[string]any{"email": st.account.Email})
		}
		if err := s.deleteSession(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
