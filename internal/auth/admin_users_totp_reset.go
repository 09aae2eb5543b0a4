package auth

import (
	"context"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// adminUsersTOTPReset removes a user's second factor (lost phone).
func (s *Service) adminUsersTOTPReset(w http.ResponseWriter, r *http.Request) {
	s.adminUserAction(w, r, "totp_reset", func(ctx context.Context, u *rocca.User) error {
		return s.ResetTOTP(ctx, u.Email)
	})
}
