// Package auth owns who may do what: users and their passwords (argon2id), browser sessions, API
// tokens, second factors (TOTP), login throttling, one-time setup and set-password links, the
// append-only audit log, the login, account and first-run pages, and the admin pages for users,
// tokens and the audit log. Its tables are users, auth_sessions, api_tokens, setup_tokens,
// login_failures and audit_log, created by Migrations.
//
// Requests reach the rest of Rocca with the signed-in user in the context (rocca.UserFromContext),
// put there by Service.Middleware; Require guards handlers by role.
//
// Only cmd/rocca, internal/adminapi and installer (to create the first admin) may import this
// package. The parts (vpn, conferencing, helpdesk) must never import it: they see users only as
// rocca.User in the request context.
package auth
