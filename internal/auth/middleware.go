package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// CookieName is the name of the session cookie.
const CookieName = "rocca_session"

// Middleware identifies the caller of every request: from the session cookie, or from an
// "Authorization: Bearer rocca_…" API token. A live, enabled user is put into the context with
// rocca.NewContextWithUser. A session whose user has a second factor that this session has not
// passed yet carries no user: Require sends it to the TOTP step. An API token counts only under
// /api/<scope>/ for one of its scopes (or any /api/ path with scope "admin").
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if remoteIPFrom(ctx) == "" {
			ctx = WithRemoteIP(ctx, clientIP(r))
		}
		st := &requestState{svc: s}
		ctx = context.WithValue(ctx, stateKey, st)
		u, err := s.identify(ctx, r, st)
		if err != nil {
			s.fail(w, r, fmt.Errorf("identify request: %w", err)) // logged by the error page
			return
		}
		if u != nil {
			ctx = rocca.NewContextWithUser(ctx, u)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// identify fills st and returns the fully authenticated user, if any.
func (s *Service) identify(ctx context.Context, r *http.Request, st *requestState) (*rocca.User, error) {
	if raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		t, a, err := s.lookupToken(ctx, strings.TrimSpace(raw))
		if err != nil || t == nil || a.Disabled {
			return nil, err
		}
		if !scopeAllows(t.Scopes, r.URL.Path) {
			st.scopeDenied = true
			return nil, nil
		}
		st.tokenID, st.scopes = t.ID, t.Scopes
		return &a.User, nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil, nil
	}
	se, a, err := s.lookupSession(ctx, c.Value)
	if err != nil || se == nil || a.Disabled {
		return nil, err
	}
	st.session, st.sessionID, st.account = se, c.Value, a
	if a.TOTP && !se.secondFactor {
		st.pending = true
		return nil, nil
	}
	return &a.User, nil
}

// scopeAllows reports whether a token with scopes may call path.
func scopeAllows(scopes []string, path string) bool {
	rest, ok := strings.CutPrefix(path, "/api/")
	if !ok {
		return false
	}
	if slices.Contains(scopes, "admin") {
		return true
	}
	first, _, _ := strings.Cut(rest, "/")
	return first != "" && slices.Contains(scopes, first)
}

// Require returns middleware that lets a request through only when its user holds role (admins
// hold every role); Require("") lets any signed-in user through. Without a user, pages are redirected (303) to /login?next=<path> — or to the
// TOTP step when only the password step is done — and /api/ paths get 401 JSON. A user without the
// role, or an API token without the "admin" scope on an admin route, gets 403.
func Require(role rocca.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := rocca.UserFromContext(r.Context())
			st := stateFrom(r.Context())
			api := strings.HasPrefix(r.URL.Path, "/api/")
			switch {
			case u == nil && st != nil && st.scopeDenied:
				refuse(w, r, st, errTokenScope())
			case u == nil && st != nil && st.pending && !api:
				http.Redirect(w, r, "/login/totp?next="+url.QueryEscape(nextOf(r)), http.StatusSeeOther)
			case u == nil && api:
				refuse(w, r, st, errNotSignedIn())
			case u == nil:
				http.Redirect(w, r, "/login?next="+url.QueryEscape(nextOf(r)), http.StatusSeeOther)
			case role != "" && !u.Can(role):
				refuse(w, r, st, errForbidden())
			case role == rocca.RoleAdmin && st != nil && st.tokenID > 0 && !slices.Contains(st.scopes, "admin"):
				refuse(w, r, st, errTokenScope())
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// nextOf is where to come back after signing in: the page asked for, for GET requests.
func nextOf(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	return r.URL.Path
}

func errNotSignedIn() error {
	return rocca.Localized(rocca.EUNAUTHORIZED, "auth.error.not_signed_in", "sign in first")
}

func errForbidden() error {
	return rocca.Localized(rocca.EFORBIDDEN, "auth.error.forbidden", "your account may not do this")
}

func errTokenScope() error {
	return rocca.Localized(rocca.EFORBIDDEN, "auth.error.token_scope", "this API token does not allow this")
}

// refuse answers err with the service's error page (JSON under /api/). Without Middleware no service
// is at hand: a plain answer in English.
func refuse(w http.ResponseWriter, r *http.Request, st *requestState, err error) {
	if st != nil {
		st.svc.fail(w, r, err)
		return
	}
	code := rocca.ErrorCodeOf(err)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		web.JSON(w, web.StatusOf(code), map[string]any{"error": map[string]any{"code": code, "message": rocca.ErrorMessage(err)}})
		return
	}
	http.Error(w, rocca.ErrorMessage(err), web.StatusOf(code))
}
