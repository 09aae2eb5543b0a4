package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestEveryResponseCarriesSecurityHeaders(t *testing.T) {
	e := newEnv(t, Options{}, func(s *Server) {
		s.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
			s.Renderer().Error(w, r, rocca.Localized(rocca.EFORBIDDEN, "web.error.forbidden.text", "no"))
		})
		s.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
		s.HandleFunc("GET /api/thing", func(w http.ResponseWriter, r *http.Request) { JSON(w, 200, map[string]int{"n": 1}) })
	})
	css := e.srv.assets.url("rocca.css")
	cases := []struct {
		name, method, path string
		headers            []string
		status             int
	}{
		{"home page", "GET", "/", []string{"X-Test-Role: staff"}, 200},
		{"home redirect", "GET", "/", nil, 303},
		{"error page", "GET", "/fail", nil, 403},
		{"panic", "GET", "/boom", nil, 500},
		{"json", "GET", "/api/thing", nil, 200},
		{"static", "GET", css, nil, 200},
		{"static missing", "GET", "/static/nope.css", nil, 404},
		{"not found", "GET", "/no/such/page", nil, 404},
		{"method not allowed", "DELETE", "/healthz", nil, 405},
		{"healthz", "GET", "/healthz", nil, 200},
		{"readyz", "GET", "/readyz", nil, 200},
		{"lang", "GET", "/lang/en?next=/", nil, 303},
		{"cross-origin refused", "POST", "/", []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}, 403},
	}
	for _, c := range cases {
		res := e.do(t, c.method, c.path, nil, c.headers...)
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, res.StatusCode, c.status)
		}
		checkSecurityHeaders(t, c.name, res.Header, wantCSP)
		if res.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent without TLS", c.name)
		}
	}
}

func TestCSPNamesPublicWebSocketOrigin(t *testing.T) {
	e := newEnv(t, Options{PublicURL: "https://rocca.comune.example.it"}, nil)
	res := e.do(t, "GET", "/healthz", nil)
	want := strings.Replace(wantCSP, "connect-src 'self'", "connect-src 'self' wss://rocca.comune.example.it", 1)
	checkSecurityHeaders(t, "healthz", res.Header, want)
}

func TestCrossOriginPostRefused(t *testing.T) {
	var calls atomic.Int32
	e := newEnv(t, Options{PublicURL: "https://rocca.comune.example.it"}, func(s *Server) {
		s.HandleFunc("POST /change", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Write([]byte("done"))
		})
	})
	refused := [][]string{
		{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"},
		{"Sec-Fetch-Site: cross-site"},
		{"Origin: https://evil.example"}, // old browser: Origin differs from Host
	}
	for _, h := range refused {
		res := e.do(t, "POST", "/change", strings.NewReader("a=1"), h...)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%v: status %d, want 403", h, res.StatusCode)
		}
		if !strings.Contains(res.body, "Richiesta bloccata") || !strings.Contains(res.body, "da un altro sito") {
			t.Errorf("%v: the 403 page does not explain the refusal:\n%s", h, res.body)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("handler ran %d times for refused requests", calls.Load())
	}
	allowed := [][]string{
		{"Sec-Fetch-Site: same-origin", "Origin: " + e.http.URL},
		{"Origin: " + e.http.URL},
		{"Origin: https://rocca.comune.example.it", "Sec-Fetch-Site: cross-site"}, // behind a proxy: trusted public origin
		{}, // no browser headers: curl, the CLI
	}
	for _, h := range allowed {
		res := e.do(t, "POST", "/change", strings.NewReader("a=1"), h...)
		if res.StatusCode != http.StatusOK || res.body != "done" {
			t.Errorf("%v: status %d body %q, want 200 done", h, res.StatusCode, res.body)
		}
	}
	if res := e.do(t, "GET", "/healthz", nil, "Sec-Fetch-Site: cross-site"); res.StatusCode != 200 {
		t.Errorf("cross-site GET: status %d, want 200", res.StatusCode)
	}
}

func TestPanicRecoveryHidesDetails(t *testing.T) {
	e := newEnv(t, Options{}, func(s *Server) {
		s.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Disposition", "attachment; filename=x.conf")
			w.Header().Set("Content-Type", "application/octet-stream")
			panic("secret-detail-42")
		})
	})
	res := e.do(t, "GET", "/boom", nil)
	if res.StatusCode != 500 {
		t.Fatalf("status %d, want 500", res.StatusCode)
	}
	for _, leak := range []string{"secret-detail-42", "goroutine", ".go:", "panic"} {
		if strings.Contains(res.body, leak) {
			t.Errorf("response leaks %q:\n%s", leak, res.body)
		}
	}
	if res.Header.Get("Content-Disposition") != "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("handler headers survived the panic: %v", res.Header)
	}
	id := res.Header.Get("X-Request-Id")
	if !strings.Contains(res.body, "Errore imprevisto") || !strings.Contains(res.body, id) {
		t.Errorf("500 page lacks the Italian text or the request id %s:\n%s", id, res.body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "secret-detail-42") || !strings.Contains(logs, id) {
		t.Errorf("panic not logged with its request id:\n%s", logs)
	}
	// The server keeps serving.
	if res := e.do(t, "GET", "/healthz", nil); res.StatusCode != 200 {
		t.Errorf("after panic: healthz %d", res.StatusCode)
	}
}

func TestReadyzFlips(t *testing.T) {
	var broken atomic.Bool
	e := newEnv(t, Options{}, func(s *Server) {
		s.AddReadyCheck("database", func(context.Context) error { return nil })
		s.AddReadyCheck("outbox", func(context.Context) error {
			if broken.Load() {
				return errors.New("smtp.example: connection refused")
			}
			return nil
		})
	})
	res := e.do(t, "GET", "/readyz", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.body, "ready\n") {
		t.Fatalf("ready: %d %q", res.StatusCode, res.body)
	}
	broken.Store(true)
	res = e.do(t, "GET", "/readyz", nil)
	if res.StatusCode != 503 {
		t.Fatalf("status %d, want 503", res.StatusCode)
	}
	for _, want := range []string{"outbox: failing", "database: ok"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("text detail lacks %q:\n%s", want, res.body)
		}
	}
	if strings.Contains(res.body, "connection refused") {
		t.Errorf("detail leaks the error text: %s", res.body)
	}
	if !strings.Contains(e.logs.String(), "connection refused") {
		t.Errorf("failing check not logged")
	}
	res = e.do(t, "GET", "/readyz", nil, "Accept: application/json")
	var got struct {
		Status  string
		Checks  map[string]string
		Failing []string
	}
	if err := json.Unmarshal([]byte(res.body), &got); err != nil {
		t.Fatal(err, res.body)
	}
	if res.StatusCode != 503 || got.Status != "unavailable" || got.Checks["outbox"] != "failing" ||
		got.Checks["database"] != "ok" || len(got.Failing) != 1 || got.Failing[0] != "outbox" {
		t.Errorf("json detail: %d %+v", res.StatusCode, got)
	}
	if res := e.do(t, "GET", "/healthz", nil); res.StatusCode != 200 || res.body != "ok\n" {
		t.Errorf("healthz while not ready: %d %q", res.StatusCode, res.body)
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	e := newEnv(t, Options{}, nil)
	res := e.do(t, "GET", "/no/such/page", nil)
	if res.StatusCode != 404 || !strings.Contains(res.body, "Pagina non trovata") || !strings.Contains(res.body, `<html lang="it">`) {
		t.Errorf("404 page: %d\n%s", res.StatusCode, res.body)
	}
	res = e.do(t, "GET", "/no/such/page", nil, "Accept: application/json")
	if res.StatusCode != 404 || !strings.Contains(res.body, `"code":"not_found"`) {
		t.Errorf("404 json: %d %s", res.StatusCode, res.body)
	}
	res = e.do(t, "POST", "/healthz", nil)
	if res.StatusCode != 405 || !strings.Contains(res.Header.Get("Allow"), "GET") || !strings.Contains(res.body, "Azione non disponibile") {
		t.Errorf("405: %d allow=%q\n%s", res.StatusCode, res.Header.Get("Allow"), res.body)
	}
}

func TestStaticFilesAreVersionedAndCached(t *testing.T) {
	e := newEnv(t, Options{}, nil)
	url := e.srv.assets.url("rocca.css")
	if !strings.Contains(url, "?v=") {
		t.Fatalf("css url %q is not versioned", url)
	}
	res := e.do(t, "GET", url, nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.Contains(res.body, "#0066cc") {
		t.Fatalf("css: %d %v", res.StatusCode, res.Header)
	}
	etag := res.Header.Get("ETag")
	res = e.do(t, "GET", "/static/rocca.css", nil, "If-None-Match: "+etag)
	if res.StatusCode != http.StatusNotModified || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("revalidation: %d %v", res.StatusCode, res.Header)
	}
	page := e.do(t, "GET", "/", nil, "X-Test-Role: staff")
	if !strings.Contains(page.body, `href="`+url+`"`) {
		t.Errorf("layout does not link %s", url)
	}
}

func TestLangSwitch(t *testing.T) {
	e := newEnv(t, Options{}, nil)
	res := e.do(t, "GET", "/lang/en?next=/helpdesk/tickets%3Fpage=2", nil)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/helpdesk/tickets?page=2" {
		t.Errorf("redirect: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	c := res.Cookies()
	if len(c) != 1 || c[0].Name != "lang" || c[0].Value != "en" || !c[0].HttpOnly || c[0].Path != "/" {
		t.Errorf("cookie: %+v", c)
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "evil"} {
		res := e.do(t, "GET", "/lang/it?next="+strings.ReplaceAll(next, "/", "%2F"), nil)
		if res.Header.Get("Location") != "/" {
			t.Errorf("next=%q redirected to %q", next, res.Header.Get("Location"))
		}
	}
	if res := e.do(t, "GET", "/lang/de?next=/", nil); res.StatusCode != 404 || len(res.Cookies()) != 0 {
		t.Errorf("unsupported language: %d %v", res.StatusCode, res.Cookies())
	}
	// The cookie switches the pages.
	res = e.do(t, "GET", "/nope", nil, "Cookie: lang=en")
	if !strings.Contains(res.body, `<html lang="en">`) || !strings.Contains(res.body, "Page not found") {
		t.Errorf("english 404 page:\n%s", res.body)
	}
}

func TestHomeRedirectsAnonymousAndFiltersLinks(t *testing.T) {
	e := newEnv(t, Options{}, func(s *Server) {
		s.SetHome([]HomeLink{
			{TitleKey: "web.error.sign_in", DescKey: "web.layout.tagline", Href: "/everyone"},
			{TitleKey: "web.layout.language", DescKey: "web.layout.tagline", Href: "/staff-only", Role: rocca.RoleStaff},
			{TitleKey: "web.layout.logout", DescKey: "web.layout.tagline", Href: "/admin-only", Role: rocca.RoleAdmin},
		})
	})
	res := e.do(t, "GET", "/", nil)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/login?next=/" {
		t.Fatalf("anonymous: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	for role, want := range map[string][]string{
		"staff":      {"/everyone", "/staff-only"},
		"councillor": {"/everyone"},
		"admin":      {"/everyone", "/staff-only", "/admin-only"},
	} {
		res := e.do(t, "GET", "/", nil, "X-Test-Role: "+role)
		if res.StatusCode != 200 || !strings.Contains(res.body, "Anna Rossi") || !strings.Contains(res.body, "Comune di Prova") {
			t.Errorf("%s: %d\n%s", role, res.StatusCode, res.body)
		}
		for _, href := range []string{"/everyone", "/staff-only", "/admin-only"} {
			has := strings.Contains(res.body, `href="`+href+`"`)
			if has != contains(want, href) {
				t.Errorf("%s: link %s shown=%v, want %v", role, href, has, !has)
			}
		}
		if !strings.Contains(res.body, `action="/logout"`) {
			t.Errorf("%s: no logout form", role)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, Options{}, func(s *Server) {
		read := func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				s.Renderer().Error(w, r, err)
				return
			}
			w.Write([]byte("read"))
		}
		s.HandleFunc("POST /small", read)
		s.HandleFunc("POST /big", func(w http.ResponseWriter, r *http.Request) {
			SetBodyLimit(w, r, 4<<20)
			read(w, r)
		})
	})
	big := strings.Repeat("x", 2<<20)
	if res := e.do(t, "POST", "/small", strings.NewReader(big)); res.StatusCode != 413 || !strings.Contains(res.body, "Dati troppo grandi") {
		t.Errorf("over the default limit: %d\n%s", res.StatusCode, res.body)
	}
	if res := e.do(t, "POST", "/big", strings.NewReader(big)); res.StatusCode != 200 {
		t.Errorf("raised limit: %d", res.StatusCode)
	}
	if res := e.do(t, "POST", "/small", strings.NewReader("a=1")); res.StatusCode != 200 {
		t.Errorf("small body: %d", res.StatusCode)
	}
}

func TestAccessLogOmitsQueryAndHonoursLogPath(t *testing.T) {
	e := newEnv(t, Options{}, func(s *Server) {
		s.HandleFunc("GET /join/{token}", func(w http.ResponseWriter, r *http.Request) {
			LogPath(r, "/join/…")
			w.Write([]byte("hi"))
		})
	})
	e.do(t, "GET", "/nope?token=query-secret", nil)
	e.do(t, "GET", "/join/path-secret", nil)
	logs := e.logs.String()
	for _, leak := range []string{"query-secret", "path-secret"} {
		if strings.Contains(logs, leak) {
			t.Errorf("access log leaks %q:\n%s", leak, logs)
		}
	}
	for _, want := range []string{"path=/nope", "status=404", "path=/join/…", "method=GET", "remote=127.0.0.1"} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %q:\n%s", want, logs)
		}
	}
}

func TestListenInUseIsAClearError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	e := newEnv(t, Options{Listen: busy.Addr().String()}, nil)
	err = e.srv.Listen()
	var re *rocca.Error
	if !errors.As(err, &re) || re.Code != rocca.EUNAVAILABLE || re.Key != "web.listen.in_use" {
		t.Fatalf("Listen on a busy port: %v", err)
	}
	msg := testCatalog(t).T("it", re.Key, re.Args...)
	if !strings.Contains(msg, busy.Addr().String()) || !strings.Contains(msg, "già usato") {
		t.Errorf("message %q", msg)
	}
}

func TestServeAndGracefulShutdown(t *testing.T) {
	e := newEnv(t, Options{}, nil)
	if e.srv.Addr() != nil {
		t.Fatal("Addr before Listen")
	}
	if err := e.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx) }()
	res, err := http.Get("http://" + e.srv.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("healthz %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v after shutdown", err)
	}
	if _, err := http.Get("http://" + e.srv.Addr().String() + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestSecureCookies(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want bool
	}{
		{Options{}, false},
		{Options{PublicURL: "http://127.0.0.1:8080"}, false},
		{Options{PublicURL: "https://rocca.comune.example.it"}, true},
		{Options{TLS: TLSSelfSigned, DataDir: t.TempDir()}, true},
	} {
		s, err := New(c.opts, nil, testCatalog(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.SecureCookies() != c.want {
			t.Errorf("%+v: SecureCookies %v", c.opts, !c.want)
		}
	}
}

func TestNewRejectsBadPublicURL(t *testing.T) {
	for _, u := range []string{"rocca.comune.it", "ftp://x.it", "https://"} {
		_, err := New(Options{PublicURL: u}, nil, testCatalog(t), nil)
		var re *rocca.Error
		if !errors.As(err, &re) || re.Key != "web.public_url.invalid" {
			t.Errorf("%q: %v", u, err)
		}
	}
}
