package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// logBuffer collects log output written from server goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

type testEnv struct {
	srv  *Server
	http *httptest.Server
	logs *logBuffer
	reg  *prometheus.Registry
}

// newEnv builds a Server with opts (defaults filled in), lets setup mount handlers, and serves it on
// an httptest server. A request header X-Test-Role signs in a user with that role (X-Test-Lang sets
// the user's language), standing in for auth's session loader.
func newEnv(t *testing.T, opts Options, setup func(*Server)) *testEnv {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Municipality == "" {
		opts.Municipality = "Comune di Prova"
	}
	logs := &logBuffer{}
	reg := prometheus.NewRegistry()
	s, err := New(opts, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), testCatalog(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	s.Use(fakeSession)
	if setup != nil {
		setup(s)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &testEnv{srv: s, http: hs, logs: logs, reg: reg}
}

func fakeSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if role := r.Header.Get("X-Test-Role"); role != "" {
			u := &rocca.User{ID: 1, Name: "Anna Rossi", Email: "anna@example.it", Role: rocca.Role(role),
				Language: r.Header.Get("X-Test-Lang")}
			r = r.WithContext(rocca.NewContextWithUser(r.Context(), u))
		}
		next.ServeHTTP(w, r)
	})
}

type response struct {
	*http.Response
	body string
}

// do sends a request without following redirects; headers are "Name: value" strings.
func (e *testEnv) do(t *testing.T, method, path string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.http.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Response: res, body: string(b)}
}

const wantCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; " +
	"form-action 'self'; object-src 'none'"

// checkSecurityHeaders fails unless res carries the headers every response must carry.
func checkSecurityHeaders(t *testing.T, what string, h http.Header, csp string) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": csp,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	pp := h.Get("Permissions-Policy")
	for _, f := range []string{"camera=(self)", "microphone=(self)", "display-capture=(self)"} {
		if !strings.Contains(pp, f) {
			t.Errorf("%s: Permissions-Policy %q lacks %s", what, pp, f)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
}
