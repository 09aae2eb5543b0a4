package auth

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

func TestTOTPEnrolAndLoginHTTP(t *testing.T) {
	s := newSite(t, Options{})
	s.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
	c := s.client(t)
	c.login("admin@comune.example.it", "admin password 1")
	other := s.client(t) // a second browser signed in before enrolment
	other.login("admin@comune.example.it", "admin password 1")

	res := c.get("/account")
	wantBody(t, res, "Attiva la verifica in due passaggi", "Sei un amministratore")
	wantRedirect(t, c.post("/account/totp/start", nil), "/account#totp")
	res = c.get("/account")
	m := regexp.MustCompile(`<code>([A-Z2-7]{32})</code>`).FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("account page shows no secret:\n%s", res.body)
	}
	secret := m[1]
	qr := c.get("/account/totp/qr.png")
	wantStatus(t, qr, http.StatusOK)
	if qr.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix([]byte(qr.body), []byte("\x89PNG\r\n\x1a\n")) || qr.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("QR: %s, %q", qr.Header.Get("Content-Type"), qr.body[:8])
	}
	res = c.post("/account/totp/confirm", url.Values{"code": {"000000"}})
	wantStatus(t, res, http.StatusUnauthorized)
	wantBody(t, res, "Il codice è errato")
	wantRedirect(t, c.post("/account/totp/confirm", url.Values{"code": {codeFor(t, secret, s.clock.Now())}}), "/account?done=totp_on")
	// This browser proved the code; the other one must now pass the code step.
	wantStatus(t, c.get("/probe/admin"), http.StatusOK)
	wantRedirect(t, other.get("/probe/admin"), "/login/totp?next=%2Fprobe%2Fadmin")
	wantStatus(t, other.get("/api/vpn/admin"), http.StatusUnauthorized)

	// A fresh login needs the code after the password; a code works once.
	s.clock.Add(time.Minute)
	b := s.client(t)
	res = b.post("/login", url.Values{"email": {"admin@comune.example.it"}, "password": {"admin password 1"}, "next": {"/admin/users"}})
	wantRedirect(t, res, "/login/totp?next=%2Fadmin%2Fusers")
	wantRedirect(t, b.get("/admin/users"), "/login/totp?next=%2Fadmin%2Fusers")
	page := b.get("/login/totp?next=/admin/users")
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "Verifica in due passaggi", `value="/admin/users"`)
	res = b.post("/login/totp", url.Values{"code": {"123456"}, "next": {"/admin/users"}})
	wantStatus(t, res, http.StatusUnauthorized)
	pending := b.sessionCookie()
	code := codeFor(t, secret, s.clock.Now())
	wantRedirect(t, b.post("/login/totp", url.Values{"code": {code}, "next": {"/admin/users"}}), "/admin/users")
	if b.sessionCookie() == pending {
		t.Fatal("session id not rotated after the code step")
	}
	wantStatus(t, b.get("/admin/users"), http.StatusOK)

	d := s.client(t)
	d.login("admin@comune.example.it", "admin password 1")
	res = d.post("/login/totp", url.Values{"code": {code}})
	wantStatus(t, res, http.StatusUnauthorized) // replayed code
	wantRedirect(t, d.get("/probe/any"), "/login/totp?next=%2Fprobe%2Fany")
	// Admins cannot turn it off; another admin (or the CLI) resets it.
	wantBody(t, c.get("/account"), "non si può disattivare")

	acts := s.auditActions(t)
	for _, want := range []string{"totp.enrol", "login.password_ok", "login.failure"} {
		if count(acts, want) == 0 {
			t.Errorf("no %s in the audit log: %v", want, acts)
		}
	}
	if got, _ := s.svc.UserByEmail(context.Background(), "admin@comune.example.it"); !got.TOTP {
		t.Fatal("TOTP not recorded")
	}
}

func TestTOTPStaffCanDisableHTTP(t *testing.T) {
	s := newSite(t, Options{})
	u := s.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	secret, _, _ := s.svc.StartTOTP(context.Background(), u.ID)
	if err := s.svc.ConfirmTOTP(context.Background(), u.ID, codeFor(t, secret, s.clock.Now())); err != nil {
		t.Fatal(err)
	}
	s.clock.Add(time.Minute)
	c := s.client(t)
	c.login(u.Email, "staff password 1")
	wantRedirect(t, c.post("/login/totp", url.Values{"code": {codeFor(t, secret, s.clock.Now())}}), "/")
	s.clock.Add(time.Minute)
	wantStatus(t, c.post("/account/totp/disable", url.Values{"code": {"999999"}}), http.StatusUnauthorized)
	wantRedirect(t, c.post("/account/totp/disable", url.Values{"code": {codeFor(t, secret, s.clock.Now())}}), "/account?done=totp_off")
	wantBody(t, c.get("/account?done=totp_off"), "Verifica in due passaggi disattivata.")
}
