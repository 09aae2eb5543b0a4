package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// accountPasswordUpdate changes the user's own password after checking the current one. Every
// other session of the user ends; this browser gets a fresh session.
func (s *Service) accountPasswordUpdate(w http.ResponseWriter, r *http.Request) {
	u := rocca.UserFromContext(r.Context())
	st := stateFrom(r.Context())
	fail := func(err error) {
		if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
			s.fail(w, r, err)
			return
		}
		setRetryAfter(w, err)
		s.renderAccount(w, r, formStatus(err), accountData{Error: s.message(r, err), Section: "password"})
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("password2") {
		s.renderAccount(w, r, http.StatusBadRequest, accountData{Error: s.cat.T(web.Lang(r), "auth.error.password_mismatch"), Section: "password"})
		return
	}
	if err := validatePassword(password); err != nil {
		fail(err)
		return
	}
	ip := requestIP(r)
	if _, err := s.authenticate(r.Context(), u.Email, r.PostFormValue("current"), ip); err != nil {
		if rocca.ErrorCodeOf(err) == rocca.EUNAUTHORIZED {
			err = rocca.Localized(rocca.EUNAUTHORIZED, "auth.error.current_password", "the current password is wrong")
		}
		fail(err)
		return
	}
	if err := s.SetPassword(r.Context(), u.Email, password); err != nil {
		fail(err)
		return
	}
	raw, err := s.createSession(r.Context(), u.ID, ip, r.UserAgent(), st != nil && st.session != nil && st.session.secondFactor, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, raw)
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
}
