package auth

import (
	"context"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// adminUsersDisable disables a user: sessions end, API tokens are revoked.
func (s *Service) adminUsersDisable(w http.ResponseWriter, r *http.Request) {
	s.adminUserAction(w, r, "disabled", func(ctx context.Context, u *rocca.User) error {
		return s.DisableUser(ctx, u.Email)
	})
}
