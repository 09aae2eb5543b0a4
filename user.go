package rocca

import (
	"context"
	"time"
)

// Role is what a user may do. Roles are not ordered except that an admin may do everything.
type Role string

// The roles.
const (
	RoleAdmin      Role = "admin"      // municipal IT: configures everything
	RoleAgent      Role = "agent"      // IT helpdesk agent
	RoleStaff      Role = "staff"      // employee
	RoleCouncillor Role = "councillor" // member of the council
)

// Roles lists every role in display order.
func Roles() []Role { return []Role{RoleAdmin, RoleAgent, RoleStaff, RoleCouncillor} }

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	for _, k := range Roles() {
		if r == k {
			return true
		}
	}
	return false
}

// User is a person with an account.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Language  string    `json:"language,omitempty"` // "it", "en" or "" for the browser's choice
	Disabled  bool      `json:"disabled"`
	TOTP      bool      `json:"totp"` // a second factor is enrolled
	CreatedAt time.Time `json:"created_at"`
}

// Can reports whether the user holds role want; admins hold every role.
func (u *User) Can(want Role) bool {
	return u != nil && !u.Disabled && (u.Role == want || u.Role == RoleAdmin)
}

type userKey struct{}

// NewContextWithUser returns a copy of ctx that carries u.
func NewContextWithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFromContext returns the signed-in user carried by ctx, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}
