package adminapi

import (
	"context"
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/auth"
)

// UserAddRequest is the body of POST /v1/users.
type UserAddRequest struct {
	Email    string     `json:"email"`
	Name     string     `json:"name"`
	Role     rocca.Role `json:"role"`
	Password string     `json:"password,omitempty"` // "" = the user gets a one-time set-password link
	Language string     `json:"language,omitempty"`
}

// UserAddResponse is the answer to POST /v1/users.
type UserAddResponse struct {
	User            *rocca.User `json:"user"`
	SetPasswordLink string      `json:"set_password_link,omitempty"`
}

// PasswordRequest is the body of POST /v1/users/{email}/password.
type PasswordRequest struct {
	Password string `json:"password"`
}

// Users is what the user routes need from the account service.
type Users interface {
	CreateUser(ctx context.Context, u auth.NewUser) (*rocca.User, error)
	Users(ctx context.Context) ([]*rocca.User, error)
	SetPassword(ctx context.Context, email, password string) error
	DisableUser(ctx context.Context, email string) error
	PasswordLink(ctx context.Context, email string) (string, error)
	Audit(ctx context.Context, action string, detail map[string]any) error
}

// UserRoutes registers the user administration routes used by `rocca user …`.
func UserRoutes(s *Server, users Users) {
	l := s.logger
	s.Handle("POST /v1/users", Func(l, func(ctx context.Context, _ *http.Request, in UserAddRequest) (UserAddResponse, error) {
		u, err := users.CreateUser(ctx, auth.NewUser{Email: in.Email, Name: in.Name, Role: in.Role, Password: in.Password, Language: in.Language})
		if err != nil {
			return UserAddResponse{}, err
		}
		res := UserAddResponse{User: u}
		if in.Password == "" {
			if res.SetPasswordLink, err = users.PasswordLink(ctx, u.Email); err != nil {
				return res, err
			}
		}
		return res, nil
	}))
	s.Handle("GET /v1/users", Func(l, func(ctx context.Context, _ *http.Request, _ struct{}) ([]*rocca.User, error) {
		return users.Users(ctx)
	}))
	s.Handle("POST /v1/users/{email}/password", Func(l, func(ctx context.Context, r *http.Request, in PasswordRequest) (struct{}, error) {
		return struct{}{}, users.SetPassword(ctx, r.PathValue("email"), in.Password)
	}))
	s.Handle("POST /v1/users/{email}/disable", Func(l, func(ctx context.Context, r *http.Request, _ struct{}) (struct{}, error) {
		return struct{}{}, users.DisableUser(ctx, r.PathValue("email"))
	}))
}
