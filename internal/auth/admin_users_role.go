package auth

import (
	"context"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// adminUsersRole changes a user's role.
func (s *Service) adminUsersRole(w http.ResponseWriter, r *http.Request) {
	role := rocca.Role(r.PostFormValue("role"))
	s.adminUserAction(w, r, "role", func(ctx context.Context, u *rocca.User) error {
		return s.SetRole(ctx, u.Email, role)
	})
}
