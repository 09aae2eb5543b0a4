package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestStatusOf(t *testing.T) {
	for code, want := range map[rocca.ErrorCode]int{
		rocca.EINVALID: 400, rocca.EUNAUTHORIZED: 401, rocca.EFORBIDDEN: 403, rocca.ENOTFOUND: 404,
		rocca.ECONFLICT: 409, rocca.EGONE: 410, rocca.ETOOLARGE: 413, rocca.ERATELIMIT: 429,
		rocca.EUNAVAILABLE: 503, rocca.EINTERNAL: 500, "something-else": 500,
	} {
		if got := StatusOf(code); got != want {
			t.Errorf("StatusOf(%s) = %d, want %d", code, got, want)
		}
	}
}

// errorEnv serves GET /err and GET /api/err, both answering with the error the test sets.
func errorEnv(t *testing.T) (*testEnv, *error) {
	t.Helper()
	var current error
	e := newEnv(t, Options{}, func(s *Server) {
		h := func(w http.ResponseWriter, r *http.Request) { s.Renderer().Error(w, r, current) }
		s.HandleFunc("GET /err", h)
		s.HandleFunc("GET /api/err", h)
	})
	return e, &current
}

func TestErrorMapsCodesAndShowsCatalogText(t *testing.T) {
	e, current := errorEnv(t)
	cat := testCatalog(t)
	codes := []rocca.ErrorCode{rocca.EINVALID, rocca.EUNAUTHORIZED, rocca.EFORBIDDEN, rocca.ENOTFOUND,
		rocca.ECONFLICT, rocca.EGONE, rocca.ETOOLARGE, rocca.ERATELIMIT, rocca.EUNAVAILABLE}
	for _, code := range codes {
		// A Localized error shows its own catalog text, with its args, in Italian by default.
		*current = fmt.Errorf("wrapped: %w", rocca.Localized(code, "web.listen.in_use", "english only", "10.0.0.1:80"))
		res := e.do(t, "GET", "/err", nil)
		want := html.EscapeString(cat.T("it", "web.listen.in_use", "10.0.0.1:80"))
		if res.StatusCode != StatusOf(code) || !strings.Contains(res.body, want) {
			t.Errorf("%s: %d, body lacks %q\n%s", code, res.StatusCode, want, res.body)
		}
		title, _ := codeKeys(code)
		if !strings.Contains(res.body, "<h1>"+html.EscapeString(cat.T("it", title))+"</h1>") {
			t.Errorf("%s: no title %q", code, cat.T("it", title))
		}
		if strings.Contains(res.body, "english only") {
			t.Errorf("%s: English log message shown to the user", code)
		}
		// The same error in English for a user who chose English.
		res = e.do(t, "GET", "/err", nil, "X-Test-Role: staff", "X-Test-Lang: en")
		if want := html.EscapeString(cat.T("en", "web.listen.in_use", "10.0.0.1:80")); !strings.Contains(res.body, want) {
			t.Errorf("%s en: body lacks %q", code, want)
		}
	}
	// An *Error without a key gets the generic text of its code.
	*current = rocca.Errorf(rocca.EFORBIDDEN, "user 7 may not see peer 9")
	res := e.do(t, "GET", "/err", nil)
	if res.StatusCode != 403 || !strings.Contains(res.body, "Non hai i permessi") || strings.Contains(res.body, "peer 9") {
		t.Errorf("keyless error: %d\n%s", res.StatusCode, res.body)
	}
	// 401 offers the sign-in link back to the page.
	*current = rocca.Localized(rocca.EUNAUTHORIZED, "web.error.unauthorized.text", "sign in")
	if res := e.do(t, "GET", "/err", nil); !strings.Contains(res.body, `href="/login?next=%2ferr"`) {
		t.Errorf("401 page has no sign-in link\n%s", res.body)
	}
}

func TestErrorInternalShowsNoDetails(t *testing.T) {
	e, current := errorEnv(t)
	*current = fmt.Errorf("query users: %w", errors.New("password=hunter2 at db.go:42"))
	res := e.do(t, "GET", "/err", nil)
	id := res.Header.Get("X-Request-Id")
	if res.StatusCode != 500 || strings.Contains(res.body, "hunter2") || !strings.Contains(res.body, id) ||
		!strings.Contains(res.body, "Errore imprevisto") {
		t.Errorf("internal error page: %d\n%s", res.StatusCode, res.body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "hunter2") || !strings.Contains(logs, "request_id="+id) {
		t.Errorf("internal error not logged with its request id:\n%s", logs)
	}
	// A Localized EINTERNAL still shows only the generic text.
	*current = rocca.Localized(rocca.EINTERNAL, "web.listen.in_use", "x", "secret-host:1")
	if res := e.do(t, "GET", "/err", nil); strings.Contains(res.body, "secret-host") {
		t.Errorf("internal error shows its catalog text")
	}
}

func TestErrorJSON(t *testing.T) {
	e, current := errorEnv(t)
	*current = rocca.Localized(rocca.ECONFLICT, "web.tls.mode_invalid", "x", "maybe")
	for _, c := range []struct{ path, accept string }{{"/err", "application/json"}, {"/api/err", ""}} {
		res := e.do(t, "GET", c.path, nil, "Accept: "+c.accept, "Cookie: lang=en")
		var got struct {
			Error struct {
				Code, Message string
				RequestID     string `json:"request_id"`
			}
		}
		if err := json.Unmarshal([]byte(res.body), &got); err != nil {
			t.Fatalf("%s: %v\n%s", c.path, err, res.body)
		}
		if res.StatusCode != 409 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
			got.Error.Code != "conflict" || got.Error.Message != `tls = "maybe" is not valid: use off, self-signed, files or acme.` ||
			got.Error.RequestID != res.Header.Get("X-Request-Id") {
			t.Errorf("%s: %d %+v", c.path, res.StatusCode, got)
		}
	}
}

func TestErrorWithoutServer(t *testing.T) {
	// Parts test their handlers with a bare Renderer: errors must still render.
	r, err := NewRenderer(testCatalog(t), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.Error(rec, httptest.NewRequest("GET", "/x", nil), rocca.Localized(rocca.EGONE, "web.error.gone.text", "gone"))
	if rec.Code != 410 || !strings.Contains(rec.Body.String(), "già stato usato") {
		t.Errorf("%d\n%s", rec.Code, rec.Body.String())
	}
}

func TestJSONUnencodable(t *testing.T) {
	rec := httptest.NewRecorder()
	JSON(rec, 200, map[string]any{"f": func() {}})
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"internal"`) {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}
