package helpdesk

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// testUserHeader names the signed-in user in web tests (by e-mail); the fake require middleware
// stands in for auth.Require, which cmd/rocca passes in production.
const testUserHeader = "X-Test-User"

// webServer mounts the helpdesk routes on the real web server (its middleware sets the CSP and
// the other security headers).
func (e *env) webServer(t testing.TB, users ...*rocca.User) *httptest.Server {
	t.Helper()
	srv, err := web.New(web.Options{Listen: "127.0.0.1:0", PublicURL: "http://127.0.0.1"}, testLogger(), catalog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	byEmail := map[string]*rocca.User{}
	for _, u := range users {
		byEmail[u.Email] = u
	}
	require := func(role rocca.Role) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				who := r.Header.Get(testUserHeader)
				if c, err := r.Cookie("test_user"); err == nil && who == "" {
					who = c.Value
				}
				u := byEmail[who]
				switch {
				case u == nil:
					http.Error(w, "sign in", http.StatusUnauthorized)
				case role != "" && !u.Can(role):
					http.Error(w, "forbidden", http.StatusForbidden)
				default:
					next.ServeHTTP(w, r.WithContext(rocca.NewContextWithUser(r.Context(), u)))
				}
			})
		}
	}
	e.svc.Routes(srv, require)
	mountTestLogin(srv)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// browser is an HTTP client that does not follow redirects.
var browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t testing.TB, ts *httptest.Server, as *rocca.User, path string) (*http.Response, string) {
	t.Helper()
	return getLang(t, ts, as, path, "it")
}

func getLang(t testing.TB, ts *httptest.Server, as *rocca.User, path, lang string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	req.Header.Set("Accept-Language", lang)
	if as != nil {
		req.Header.Set(testUserHeader, as.Email)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if strings.Contains(string(b), "[helpdesk.") || strings.Contains(string(b), "[web.") {
		t.Errorf("%s %s: a message key is missing from the catalog", req.Method, req.URL.Path)
	}
	return res, string(b)
}

func postForm(t testing.TB, ts *httptest.Server, as *rocca.User, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if as != nil {
		req.Header.Set(testUserHeader, as.Email)
	}
	return do(t, req)
}

// postMultipart posts fields and files (name -> content) as multipart/form-data.
func postMultipart(t testing.TB, ts *httptest.Server, as *rocca.User, path string, fields map[string]string, files map[string][]byte) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, data := range files {
		w, _ := mw.CreateFormFile("files", name)
		w.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if as != nil {
		req.Header.Set(testUserHeader, as.Email)
	}
	return do(t, req)
}
