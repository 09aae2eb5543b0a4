package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// langCookie names the cookie set by the language switch in the footer.
const langCookie = "lang"

// Lang returns the language for r: the signed-in user's choice, else the "lang" cookie, else the
// best match for Accept-Language (on requests served by Server), else Italian.
func Lang(r *http.Request) string {
	var cat *i18n.Catalog
	if st := siteOf(r.Context()); st != nil {
		cat = st.cat
	}
	return langOf(r, cat)
}

func langOf(r *http.Request, cat *i18n.Catalog) string {
	if u := rocca.UserFromContext(r.Context()); u != nil && supported(u.Language) {
		return u.Language
	}
	if c, err := r.Cookie(langCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" && cat != nil {
		return cat.Match(al)
	}
	return i18n.Default
}

func supported(lang string) bool { return slices.Contains(i18n.Languages(), lang) }

// SafeNext returns next if it is a path on this site ("/x?y"), otherwise "/": redirect targets taken
// from the query string must never lead to another site.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") {
		return "/"
	}
	// Browsers read "\" as "/" and drop tabs and newlines, so "/\evil" or "/\t/evil" would leave the site.
	for _, c := range next {
		if c == '\\' || c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}
