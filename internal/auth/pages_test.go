package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

// TestPagesInBothLanguages renders every page of the package in Italian and English and fails on a
// template error or a message key missing from the catalog.
func TestPagesInBothLanguages(t *testing.T) {
	for _, lang := range []string{"it", "en"} {
		t.Run(lang, func(t *testing.T) {
			s := newSite(t, Options{})
			ctx := context.Background()
			link, _ := s.svc.SetupLink(ctx)
			setup := strings.TrimPrefix(link, "http://rocca.test")
			admin := s.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
			s.user(t, "staff@comune.example.it", rocca.RoleStaff, "")
			plink, _ := s.svc.PasswordLink(ctx, "staff@comune.example.it")
			s.svc.CreateToken(ctx, admin.Email, "script", []string{"vpn", "admin"}, 0)
			c := s.client(t)
			u, _ := url.Parse(s.srv.URL)
			c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: lang, Path: "/"}})
			check := func(res response, status int) {
				t.Helper()
				wantStatus(t, res, status)
				if i := strings.Index(res.body, "[auth."); i >= 0 {
					t.Fatalf("%s: missing message %s", res.Request.URL.Path, res.body[i:i+40])
				}
				if !strings.Contains(res.body, `<html lang="`+lang+`">`) {
					t.Fatalf("%s not rendered in %s", res.Request.URL.Path, lang)
				}
			}
			check(c.get("/login"), http.StatusOK)
			check(c.get(setup), http.StatusGone) // an admin exists already
			check(c.get(strings.TrimPrefix(plink, "http://rocca.test")), http.StatusOK)
			check(c.get("/password/nope"), http.StatusGone)
			c.login(admin.Email, "admin password 1")
			check(c.get("/account"), http.StatusOK)
			c.post("/account/totp/start", nil)
			check(c.get("/account"), http.StatusOK)
			check(c.get("/admin/users"), http.StatusOK)
			check(c.get("/admin/audit"), http.StatusOK)
			check(c.get("/admin/tokens"), http.StatusOK)
			check(c.get("/probe/none-such"), http.StatusNotFound)
		})
	}
}
