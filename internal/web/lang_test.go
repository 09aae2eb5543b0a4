package web

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestLangPrecedence(t *testing.T) {
	cat := testCatalog(t)
	st := &site{cat: cat, links: func() []HomeLink { return nil }}
	for _, c := range []struct {
		name, userLang, cookie, accept, want string
		anonymous                            bool
	}{
		{name: "user choice beats cookie and header", userLang: "en", cookie: "it", accept: "it", want: "en"},
		{name: "user without choice: cookie", userLang: "", cookie: "en", accept: "it", want: "en"},
		{name: "anonymous: cookie", anonymous: true, cookie: "en", accept: "it", want: "en"},
		{name: "unsupported cookie: header", anonymous: true, cookie: "de", accept: "en-GB,en;q=0.9", want: "en"},
		{name: "header only", anonymous: true, accept: "fr, en;q=0.5", want: "en"},
		{name: "unsupported user language: header", userLang: "de", accept: "en", want: "en"},
		{name: "nothing: Italian", anonymous: true, want: "it"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		if c.cookie != "" {
			req.Header.Set("Cookie", "lang="+c.cookie)
		}
		if c.accept != "" {
			req.Header.Set("Accept-Language", c.accept)
		}
		ctx := context.WithValue(req.Context(), siteKey{}, st)
		if !c.anonymous {
			ctx = rocca.NewContextWithUser(ctx, &rocca.User{ID: 1, Language: c.userLang})
		}
		if got := Lang(req.WithContext(ctx)); got != c.want {
			t.Errorf("%s: Lang = %q, want %q", c.name, got, c.want)
		}
	}
	// Outside the server (no catalog in the context) the header cannot be matched: Italian.
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Language", "en")
	if got := Lang(req); got != "it" {
		t.Errorf("without server: %q", got)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/",
		"/":                    "/",
		"/vpn/devices?page=2":  "/vpn/devices?page=2",
		"/a#frag":              "/a#frag",
		"//evil.example":       "/",
		"/\\evil.example":      "/",
		"/\t/evil.example":     "/",
		"https://evil.example": "/",
		"javascript:alert(1)":  "/",
		"evil":                 "/",
		"/%2f%2fevil":          "/%2f%2fevil", // stays a path on this site
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "/a?b=c", "https://x", "/\x00", "/%0a/x", "///x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeNext(in)
		if out != "/" && out != in {
			t.Fatalf("SafeNext(%q) = %q: must be the input or /", in, out)
		}
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsAny(out, "\\\t\r\n") {
			t.Fatalf("SafeNext(%q) = %q leaves the site", in, out)
		}
		// Resolved against our origin, the target must stay on it.
		base, _ := url.Parse("https://rocca.example.it/x/y")
		ref, err := url.Parse(out)
		if err != nil {
			t.Fatalf("SafeNext(%q) = %q does not parse: %v", in, out, err)
		}
		if got := base.ResolveReference(ref); got.Host != base.Host || got.Scheme != base.Scheme {
			t.Fatalf("SafeNext(%q) = %q resolves to %s", in, out, got)
		}
	})
}
