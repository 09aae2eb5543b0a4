package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
)

var testPages = fstest.MapFS{
	"hello.html": {Data: []byte(`{{define "title"}}{{t "web.home.title"}} & co{{end}}
{{define "content"}}<h1>{{.Title}}</h1><p id="data">{{.Data.Text}}</p><p id="when">{{fmtTime .Data.When}}</p>{{template "_badge.html" .}}{{end}}
{{define "head"}}<script type="module" src="/static/page.js"></script>{{end}}`)},
	"_badge.html": {Data: []byte(`<span class="badge">{{lang}}</span>`)},
}

type helloData struct {
	Text string
	When time.Time
}

// renderTest renders page through a renderer built on pages, with the given request headers.
func renderTest(t *testing.T, r *Renderer, page string, data any, user *rocca.User, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "/hello", nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	if user != nil {
		req = req.WithContext(rocca.NewContextWithUser(req.Context(), user))
	}
	rec := httptest.NewRecorder()
	r.Render(rec, req, http.StatusOK, page, data)
	return rec
}

func TestRenderBothLanguages(t *testing.T) {
	r, err := NewRenderer(testCatalog(t), nil, testPages)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		header, lang, title, when string
	}{
		{"Accept-Language: it-IT", "it", "I tuoi servizi &amp; co", "05/03/2026 14:30"},
		{"Cookie: lang=en", "en", "Your services &amp; co", "5 Mar 2026 14:30"},
	} {
		rec := renderTest(t, r, "hello", helloData{Text: "<b>x</b>", When: time.Date(2026, 3, 5, 14, 30, 0, 0, time.Local)}, nil, c.header)
		body := rec.Body.String()
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s: %d %v", c.lang, rec.Code, rec.Header())
		}
		for _, want := range []string{
			`<html lang="` + c.lang + `">`,
			"<title>" + c.title + " · Rocca</title>",
			"<h1>" + c.title + "</h1>",
			`<p id="data">&lt;b&gt;x&lt;/b&gt;</p>`, // data is escaped
			`<p id="when">` + c.when + `</p>`,
			`<span class="badge">` + c.lang + `</span>`, // partial, with lang bound
			`<script type="module" src="/static/page.js"></script>`,
			`<a class="skip-link" href="#content">`,
			`<main id="content"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: page lacks %s\n%s", c.lang, want, body)
			}
		}
		if strings.Contains(body, "logout") {
			t.Errorf("%s: anonymous page shows the user menu", c.lang)
		}
	}
}

func TestRenderUserMenuAndNav(t *testing.T) {
	e := newEnv(t, Options{}, func(s *Server) {
		s.SetHome([]HomeLink{{TitleKey: "web.layout.language", DescKey: "web.layout.tagline", Href: "/vpn", Role: rocca.RoleStaff}})
		s.HandleFunc("GET /vpn/devices", func(w http.ResponseWriter, r *http.Request) {
			s.Renderer().Error(w, r, rocca.Localized(rocca.ENOTFOUND, "web.error.not_found.text", "x"))
		})
	})
	res := e.do(t, "GET", "/vpn/devices", nil, "X-Test-Role: staff", "X-Test-Lang: en")
	for _, want := range []string{`<html lang="en">`, "Anna Rossi", `action="/logout"`, "Sign out",
		`<a href="/vpn" aria-current="page">Language</a>`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page lacks %s\n%s", want, res.body)
		}
	}
}

func TestNewRendererRejectsBadPages(t *testing.T) {
	cat := testCatalog(t)
	for name, pages := range map[string]fstest.MapFS{
		"no content":   {"a.html": {Data: []byte(`{{define "title"}}x{{end}}`)}},
		"no title":     {"a.html": {Data: []byte(`{{define "content"}}x{{end}}`)}},
		"syntax":       {"a.html": {Data: []byte(`{{define "title"}}{{.X{{end}}`)}},
		"reserved":     {"error.html": {Data: []byte(`{{define "title"}}x{{end}}{{define "content"}}x{{end}}`)}},
		"unknown func": {"a.html": {Data: []byte(`{{define "title"}}{{nope}}{{end}}{{define "content"}}x{{end}}`)}},
	} {
		if _, err := NewRenderer(cat, nil, pages); err == nil {
			t.Errorf("%s: NewRenderer accepted it", name)
		}
	}
}

func TestRenderUnknownPageIsPlain500(t *testing.T) {
	r, err := NewRenderer(testCatalog(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := renderTest(t, r, "nope", nil, nil)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "errore imprevisto") {
		t.Errorf("%d %q", rec.Code, rec.Body.String())
	}
}

var missingKey = regexp.MustCompile(`\[[a-z_]+\.[a-z0-9_.]+\]`)

// TestEveryTemplateRendersInBothLanguages renders each page this package owns, in each language,
// with each variant of its data, and fails on a "[key]" missing-key marker or a template error.
func TestEveryTemplateRendersInBothLanguages(t *testing.T) {
	e := newEnv(t, Options{}, nil)
	r := e.srv.render
	user := &rocca.User{ID: 1, Name: "Anna Rossi", Role: rocca.RoleAdmin}
	links := []HomeLink{{TitleKey: "web.layout.language", DescKey: "web.layout.tagline", Href: "/x"}}
	variants := map[string][]any{
		"home": {homeData{}, homeData{Links: links}},
	}
	codes := []rocca.ErrorCode{rocca.EINVALID, rocca.EUNAUTHORIZED, rocca.EFORBIDDEN, rocca.ENOTFOUND,
		rocca.ECONFLICT, rocca.EGONE, rocca.ETOOLARGE, rocca.ERATELIMIT, rocca.EUNAVAILABLE, rocca.EINTERNAL}
	for _, code := range codes {
		title, text := codeKeys(code)
		variants["error"] = append(variants["error"], errorData{Status: StatusOf(code), Code: code, TitleKey: title,
			Message: e.srv.cat.T("it", text), SignIn: code == rocca.EUNAUTHORIZED})
	}
	for _, keys := range [][2]string{{"web.error.method.title", "web.error.method.text"}, {"web.error.cross_origin.title", "web.error.cross_origin.text"}} {
		variants["error"] = append(variants["error"], errorData{Status: 403, TitleKey: keys[0], Message: e.srv.cat.T("it", keys[1])})
	}
	for _, page := range r.Pages() {
		if len(variants[page]) == 0 {
			t.Errorf("page %s has no test data: add it here", page)
		}
		for _, lang := range i18n.Languages() {
			for _, data := range variants[page] {
				rec := renderTest(t, r, page, data, user, "Cookie: lang="+lang)
				body := rec.Body.String()
				if rec.Code != 200 || !strings.Contains(body, `<html lang="`+lang+`">`) {
					t.Errorf("%s/%s: %d\n%s", page, lang, rec.Code, body)
				}
				if m := missingKey.FindString(body); m != "" {
					t.Errorf("%s/%s: missing catalog key %s", page, lang, m)
				}
			}
		}
	}
}

func TestFormatTime(t *testing.T) {
	at := time.Date(2026, 3, 5, 14, 30, 0, 0, time.Local)
	if got := formatTime("it", at, true); got != "05/03/2026 14:30" {
		t.Errorf("it: %q", got)
	}
	if got := formatTime("en", at, false); got != "5 Mar 2026" {
		t.Errorf("en: %q", got)
	}
	if got := formatTime("it", time.Time{}, true); got != "" {
		t.Errorf("zero: %q", got)
	}
}
