package auth

import (
	"context"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// adminUsersEnable lets a disabled user sign in again.
func (s *Service) adminUsersEnable(w http.ResponseWriter, r *http.Request) {
	s.adminUserAction(w, r, "enabled", func(ctx context.Context, u *rocca.User) error {
		return s.EnableUser(ctx, u.Email)
	})
}
