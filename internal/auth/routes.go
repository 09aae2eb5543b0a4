package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// Routes registers the sign-in, first-run, account and admin pages on the web server. The server
// must run Middleware before them (web.Server.Use).
func (s *Service) Routes(h interface {
	Handle(pattern string, h http.Handler)
}) {
	anyUser, admin := Require(""), Require(rocca.RoleAdmin)
	f := func(fn http.HandlerFunc) http.Handler { return fn }

	h.Handle("GET /login", f(s.loginShow))
	h.Handle("POST /login", f(s.loginSubmit))
	h.Handle("GET /login/totp", f(s.loginTOTPShow))
	h.Handle("POST /login/totp", f(s.loginTOTPSubmit))
	h.Handle("POST /logout", f(s.logoutSubmit))
	h.Handle("GET /setup/{token}", f(s.setupShow))
	h.Handle("POST /setup/{token}", f(s.setupSubmit))
	h.Handle("GET /password/{token}", f(s.passwordLinkShow))
	h.Handle("POST /password/{token}", f(s.passwordLinkSubmit))

	h.Handle("GET /account", anyUser(f(s.accountShow)))
	h.Handle("POST /account/profile", anyUser(f(s.accountProfileUpdate)))
	h.Handle("POST /account/password", anyUser(f(s.accountPasswordUpdate)))
	h.Handle("POST /account/totp/start", anyUser(f(s.accountTOTPStart)))
	h.Handle("GET /account/totp/qr.png", anyUser(f(s.accountTOTPQR)))
	h.Handle("POST /account/totp/confirm", anyUser(f(s.accountTOTPConfirm)))
	h.Handle("POST /account/totp/disable", anyUser(f(s.accountTOTPDisable)))

	h.Handle("GET /admin/users", admin(f(s.adminUsersList)))
	h.Handle("POST /admin/users", admin(f(s.adminUsersCreate)))
	h.Handle("POST /admin/users/{id}/disable", admin(f(s.adminUsersDisable)))
	h.Handle("POST /admin/users/{id}/enable", admin(f(s.adminUsersEnable)))
	h.Handle("POST /admin/users/{id}/role", admin(f(s.adminUsersRole)))
	h.Handle("POST /admin/users/{id}/password-link", admin(f(s.adminUsersPasswordLink)))
	h.Handle("POST /admin/users/{id}/totp-reset", admin(f(s.adminUsersTOTPReset)))
	h.Handle("GET /admin/audit", admin(f(s.adminAuditList)))
	h.Handle("GET /admin/tokens", admin(f(s.adminTokensList)))
	h.Handle("POST /admin/tokens", admin(f(s.adminTokensCreate)))
	h.Handle("POST /admin/tokens/{id}/revoke", admin(f(s.adminTokensRevoke)))
}
