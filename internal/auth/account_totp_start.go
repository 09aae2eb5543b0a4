package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// accountTOTPStart creates a pending second-factor secret; the account page then shows it with
// its QR code and asks for a first code.
func (s *Service) accountTOTPStart(w http.ResponseWriter, r *http.Request) {
	u := rocca.UserFromContext(r.Context())
	if u.TOTP {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	if _, _, err := s.StartTOTP(r.Context(), u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account#totp", http.StatusSeeOther)
}
