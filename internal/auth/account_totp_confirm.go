package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// accountTOTPConfirm completes enrolment with a first code. This session counts as verified; the
// user's other sessions must pass the code step before going on.
func (s *Service) accountTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	u := rocca.UserFromContext(r.Context())
	if err := s.ConfirmTOTP(r.Context(), u.ID, r.PostFormValue("code")); err != nil {
		if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
			s.fail(w, r, err)
			return
		}
		s.renderAccount(w, r, formStatus(err), accountData{Error: s.message(r, err), Section: "totp"})
		return
	}
	if st := stateFrom(r.Context()); st != nil && st.session != nil {
		if err := s.markSecondFactor(r.Context(), st.session.id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/account?done=totp_on", http.StatusSeeOther)
}
