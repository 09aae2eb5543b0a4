package auth

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// site is the auth service mounted on the real web server, behind an httptest server.
type site struct {
	*env
	srv *httptest.Server
}

// newSite serves e.svc on a real web.Server, plus probe routes guarded by each role.
func newSite(t *testing.T, opts Options) *site {
	t.Helper()
	e := newEnv(t, opts)
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ws, err := web.New(web.Options{Listen: "127.0.0.1:0", Municipality: "Comune di Prova"}, logger, e.svc.cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.Use(e.svc.Middleware)
	e.svc.Routes(ws)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok "+rocca.UserFromContext(r.Context()).Email)
	})
	for _, role := range rocca.Roles() {
		ws.Handle("GET /probe/"+string(role), Require(role)(ok))
		ws.Handle("GET /api/vpn/"+string(role), Require(role)(ok))
	}
	ws.Handle("GET /probe/any", Require("")(ok))
	ws.Handle("GET /api/helpdesk/any", Require("")(ok))
	srv := httptest.NewServer(ws.Handler())
	t.Cleanup(srv.Close)
	return &site{env: e, srv: srv}
}

// client is a browser: a cookie jar and no automatic redirects, so tests see each 303.
type client struct {
	t    *testing.T
	site *site
	http *http.Client
}

func (s *site) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, site: s, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	req.Header.Set("Accept-Language", "it")
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res, string(b)}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.site.srv.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.site.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// login signs in with e-mail and password and expects a redirect.
func (c *client) login(email, password string) response {
	c.t.Helper()
	res := c.post("/login", url.Values{"email": {email}, "password": {password}, "next": {"/probe/any"}})
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d, want 303\n%s", email, res.StatusCode, res.body)
	}
	return res
}

// sessionCookie returns the session cookie the jar holds.
func (c *client) sessionCookie() string {
	u, _ := url.Parse(c.site.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == CookieName {
			return ck.Value
		}
	}
	return ""
}

func wantStatus(t *testing.T, res response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, res.body)
	}
}

func wantRedirect(t *testing.T, res response, location string) {
	t.Helper()
	wantStatus(t, res, http.StatusSeeOther)
	if got := res.Header.Get("Location"); got != location {
		t.Fatalf("%s %s: Location %q, want %q", res.Request.Method, res.Request.URL.Path, got, location)
	}
}

func wantBody(t *testing.T, res response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(res.body, p) {
			t.Fatalf("%s %s: body lacks %q\n%s", res.Request.Method, res.Request.URL.Path, p, res.body)
		}
	}
}
