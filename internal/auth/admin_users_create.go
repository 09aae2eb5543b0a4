package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// adminUsersCreate adds a user. With no password given, it shows a one-time set-password link to
// hand to the person; the link is shown only on this response.
func (s *Service) adminUsersCreate(w http.ResponseWriter, r *http.Request) {
	nu := NewUser{
		Email:    r.PostFormValue("email"),
		Name:     r.PostFormValue("name"),
		Role:     rocca.Role(r.PostFormValue("role")),
		Language: r.PostFormValue("language"),
		Password: r.PostFormValue("password"),
	}
	u, err := s.CreateUser(r.Context(), nu)
	if err != nil {
		nu.Password = ""
		s.usersFailed(w, r, err, usersData{Form: nu})
		return
	}
	d := usersData{Form: NewUser{Role: rocca.RoleStaff}, Notice: s.cat.T(web.Lang(r), "auth.users.done_created", u.Email)}
	if nu.Password == "" {
		if d.Link, err = s.PasswordLink(r.Context(), u.Email); err != nil {
			s.usersFailed(w, r, err, d)
			return
		}
		d.LinkTo = u.Email
	}
	s.renderUsers(w, r, http.StatusCreated, d)
}
