package auth

import (
	"context"
	"net"
	"net/http"
)

type ctxKey int

const (
	actorKey ctxKey = iota
	ipKey
	stateKey
)

// WithActor returns a copy of ctx whose audit entries name actor (e.g. "cli") when no signed-in
// user is in the context. internal/adminapi uses it for commands given through the admin socket.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey, actor)
}

// WithRemoteIP returns a copy of ctx carrying the client's IP address for audit entries.
func WithRemoteIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey, ip)
}

func remoteIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(ipKey).(string)
	return ip
}

// clientIP is the host part of the request's remote address. Forwarding headers are not trusted:
// behind a reverse proxy every client has the proxy's address, and shares its throttling budget.
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// requestState is what Middleware learnt about the request, for Require and the handlers.
type requestState struct {
	svc         *Service
	session     *session // the browser session, also when only the password step is done
	account     *account // the session's account
	sessionID   string   // the raw cookie value, to rotate it at login
	pending     bool     // password done, TOTP step still due
	tokenID     int64    // > 0 when authenticated by API token
	scopes      []string // the API token's scopes
	scopeDenied bool     // a valid API token was used outside its scopes
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey).(*requestState)
	return st
}
