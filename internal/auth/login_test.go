package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestLoginCookieFlags(t *testing.T) {
	for _, secure := range []bool{false, true} {
		s := newSite(t, Options{SecureCookies: secure})
		s.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
		c := s.client(t)
		res := c.post("/login", url.Values{"email": {"staff@comune.example.it"}, "password": {"staff password 1"}})
		wantRedirect(t, res, "/")
		raw := res.Header.Get("Set-Cookie")
		if !strings.HasPrefix(raw, CookieName+"=") || !strings.Contains(raw, "HttpOnly") ||
			!strings.Contains(raw, "SameSite=Lax") || !strings.Contains(raw, "Path=/") {
			t.Fatalf("Set-Cookie %q lacks HttpOnly, SameSite=Lax or Path=/", raw)
		}
		if got := strings.Contains(raw, "Secure"); got != secure {
			t.Fatalf("SecureCookies=%v: Set-Cookie %q has Secure = %v", secure, raw, got)
		}
		// 256 random bits, stored only as a hash.
		value := strings.TrimPrefix(strings.SplitN(raw, ";", 2)[0], CookieName+"=")
		if len(value) < 43 {
			t.Fatalf("session id %q shorter than 256 bits", value)
		}
		var n int
		s.db.QueryRowContext(context.Background(), `SELECT count(*) FROM auth_sessions WHERE hash = ?`, tokenHash(value)).Scan(&n)
		if n != 1 {
			t.Fatal("session not stored by its SHA-256")
		}
	}
}

func TestLoginLogoutFlow(t *testing.T) {
	s := newSite(t, Options{})
	s.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	c := s.client(t)
	wantRedirect(t, c.get("/account?tab=1"), "/login?next=%2Faccount%3Ftab%3D1")
	res := c.get("/login?next=/account")
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, `name="next" value="/account"`, "Accedi")

	res = c.post("/login", url.Values{"email": {"staff@comune.example.it"}, "password": {"wrong password"}})
	wantStatus(t, res, http.StatusUnauthorized)
	wantBody(t, res, "E-mail o password errate.", `value="staff@comune.example.it"`)
	res = c.post("/login", url.Values{"email": {"nobody@comune.example.it"}, "password": {"wrong password"}})
	wantStatus(t, res, http.StatusUnauthorized)
	wantBody(t, res, "E-mail o password errate.")

	// next must stay on this site.
	for _, evil := range []string{"https://evil.example", "//evil.example", "/\\evil.example"} {
		res = c.post("/login", url.Values{"email": {"staff@comune.example.it"}, "password": {"staff password 1"}, "next": {evil}})
		wantRedirect(t, res, "/")
	}
	first := c.sessionCookie()
	res = c.post("/login", url.Values{"email": {"staff@comune.example.it"}, "password": {"staff password 1"}, "next": {"/account"}})
	wantRedirect(t, res, "/account")
	second := c.sessionCookie()
	if second == "" || second == first {
		t.Fatal("login did not rotate the session id")
	}
	if se, _, _ := s.svc.lookupSession(context.Background(), first); se != nil {
		t.Fatal("the session before login survived the rotation")
	}
	res = c.get("/account")
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "Il mio account", "staff@comune.example.it")
	wantRedirect(t, c.get("/login"), "/") // signed in already

	wantRedirect(t, c.post("/logout", nil), "/login")
	if c.sessionCookie() != "" {
		t.Fatal("logout left the cookie")
	}
	// The old cookie, replayed, no longer works: the session is gone on the server.
	old := s.client(t)
	u, _ := url.Parse(s.srv.URL)
	old.http.Jar.SetCookies(u, []*http.Cookie{{Name: CookieName, Value: second, Path: "/"}})
	wantRedirect(t, old.get("/account"), "/login?next=%2Faccount")
	var n int
	s.db.QueryRowContext(context.Background(), `SELECT count(*) FROM auth_sessions`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d sessions left after logout", n)
	}
	acts := s.auditActions(t)
	if count(acts, "login.failure") != 2 || count(acts, "login.success") != 4 || count(acts, "logout") != 1 {
		t.Fatalf("audit = %v", acts)
	}
}

func TestLoginThrottledHTTP(t *testing.T) {
	s := newSite(t, Options{})
	s.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	c := s.client(t)
	for i := 0; i < 5; i++ {
		res := c.post("/login", url.Values{"email": {"staff@comune.example.it"}, "password": {"guess"}})
		wantStatus(t, res, http.StatusUnauthorized)
	}
	res := c.post("/login", url.Values{"email": {"staff@comune.example.it"}, "password": {"staff password 1"}})
	wantStatus(t, res, http.StatusTooManyRequests)
	wantBody(t, res, "Troppi tentativi di accesso non riusciti", "riprova tra 15 minuti")
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if c.sessionCookie() != "" {
		t.Fatal("a throttled login set a session cookie")
	}
}

func TestSessionSlidingExpiry(t *testing.T) {
	s := newSite(t, Options{SessionTTL: time2h})
	s.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	c := s.client(t)
	c.login("staff@comune.example.it", "staff password 1")
	for i := 0; i < 3; i++ { // used every 90 minutes, it lives past its first 2 hours
		s.clock.Add(time90m)
		wantStatus(t, c.get("/probe/any"), http.StatusOK)
	}
	s.clock.Add(time2h)
	wantRedirect(t, c.get("/probe/any"), "/login?next=%2Fprobe%2Fany")
	if err := s.svc.PurgeExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRowContext(context.Background(), `SELECT count(*) FROM auth_sessions`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d expired sessions left after purge", n)
	}
}
