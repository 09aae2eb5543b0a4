package auth

import (
	"context"
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// usersData is the dot's Data of admin_users.html.
type usersData struct {
	Users  []*rocca.User
	Roles  []rocca.Role
	Form   NewUser // the create form, filled again after an error
	Notice string
	Error  string
	Link   string // a set-password link, shown once
	LinkTo string // whose link it is
}

// adminUsersList lists every user with role, status and second factor, and the create form.
func (s *Service) adminUsersList(w http.ResponseWriter, r *http.Request) {
	d := usersData{Form: NewUser{Role: rocca.RoleStaff}}
	lang := web.Lang(r)
	switch r.URL.Query().Get("done") {
	case "disabled":
		d.Notice = s.cat.T(lang, "auth.users.done_disabled")
	case "enabled":
		d.Notice = s.cat.T(lang, "auth.users.done_enabled")
	case "role":
		d.Notice = s.cat.T(lang, "auth.users.done_role")
	case "totp_reset":
		d.Notice = s.cat.T(lang, "auth.users.done_totp_reset")
	}
	s.renderUsers(w, r, http.StatusOK, d)
}

func (s *Service) renderUsers(w http.ResponseWriter, r *http.Request, status int, d usersData) {
	users, err := s.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Users, d.Roles = users, rocca.Roles()
	s.render.Render(w, r, status, "admin_users", d)
}

// usersFailed shows the list again with the message of err, or the error page for internal errors.
func (s *Service) usersFailed(w http.ResponseWriter, r *http.Request, err error, d usersData) {
	if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
		s.fail(w, r, err)
		return
	}
	d.Error = s.message(r, err)
	s.renderUsers(w, r, formStatus(err), d)
}

// adminUserAction runs op on the user named by the {id} path value, then goes back to the list with
// the done notice, or shows the list with the error.
func (s *Service) adminUserAction(w http.ResponseWriter, r *http.Request, done string, op func(ctx context.Context, u *rocca.User) error) {
	id, err := pathID(r)
	if err == nil {
		var u *rocca.User
		if u, err = s.UserByID(r.Context(), id); err == nil {
			err = op(r.Context(), u)
		}
	}
	if err != nil {
		s.usersFailed(w, r, err, usersData{Form: NewUser{Role: rocca.RoleStaff}})
		return
	}
	http.Redirect(w, r, "/admin/users?done="+done, http.StatusSeeOther)
}
