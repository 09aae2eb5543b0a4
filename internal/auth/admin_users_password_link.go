package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// adminUsersPasswordLink makes a new one-time set-password link for a user and shows it once.
func (s *Service) adminUsersPasswordLink(w http.ResponseWriter, r *http.Request) {
	d := usersData{Form: NewUser{Role: rocca.RoleStaff}}
	id, err := pathID(r)
	var u *rocca.User
	if err == nil {
		u, err = s.UserByID(r.Context(), id)
	}
	if err == nil {
		d.Link, err = s.PasswordLink(r.Context(), u.Email)
	}
	if err != nil {
		s.usersFailed(w, r, err, d)
		return
	}
	d.LinkTo = u.Email
	d.Notice = s.cat.T(web.Lang(r), "auth.users.done_link", u.Email)
	s.renderUsers(w, r, http.StatusOK, d)
}
