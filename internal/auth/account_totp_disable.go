package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// accountTOTPDisable removes the user's own second factor after a current code (not for admins).
func (s *Service) accountTOTPDisable(w http.ResponseWriter, r *http.Request) {
	u := rocca.UserFromContext(r.Context())
	if err := s.DisableTOTP(r.Context(), u.ID, r.PostFormValue("code")); err != nil {
		if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
			s.fail(w, r, err)
			return
		}
		s.renderAccount(w, r, formStatus(err), accountData{Error: s.message(r, err), Section: "totp"})
		return
	}
	http.Redirect(w, r, "/account?done=totp_off", http.StatusSeeOther)
}
