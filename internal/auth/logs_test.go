package auth

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNoSecretsInLogs runs every flow that handles a secret and then looks for each secret in the
// captured log output and in the audit log.
func TestNoSecretsInLogs(t *testing.T) {
	s := newSite(t, Options{})
	ctx := context.Background()
	var secrets []string
	keep := func(v string) string { secrets = append(secrets, v); return v }

	link, _ := s.svc.SetupLink(ctx)
	setupPath := strings.TrimPrefix(link, "http://rocca.test")
	keep(strings.TrimPrefix(setupPath, "/setup/"))
	c := s.client(t)
	pw := keep("segreto-amministratore-1")
	wantRedirect(t, c.post(setupPath, url.Values{"name": {"IT"}, "email": {"it@comune.example.it"}, "password": {pw}, "password2": {pw}}), "/")
	keep(c.sessionCookie())

	b := s.client(t)
	wrong := keep("tentativo-sbagliato-42")
	wantStatus(t, b.post("/login", url.Values{"email": {"it@comune.example.it"}, "password": {wrong}}), http.StatusUnauthorized)
	b.login("it@comune.example.it", pw)
	keep(b.sessionCookie())

	wantRedirect(t, c.post("/account/totp/start", nil), "/account#totp")
	secret := keep(regexp.MustCompile(`<code>([A-Z2-7]{32})</code>`).FindStringSubmatch(c.get("/account").body)[1])
	wantRedirect(t, c.post("/account/totp/confirm", url.Values{"code": {codeFor(t, secret, s.clock.Now())}}), "/account?done=totp_on")

	res := c.post("/admin/users", url.Values{"name": {"Staff"}, "email": {"staff@comune.example.it"}, "role": {"staff"}})
	plink := regexp.MustCompile(`http://rocca.test(/password/[A-Za-z0-9_-]+)`).FindStringSubmatch(res.body)[1]
	keep(strings.TrimPrefix(plink, "/password/"))
	staffPW := keep("password-dello-staff")
	wantRedirect(t, s.client(t).post(plink, url.Values{"password": {staffPW}, "password2": {staffPW}}), "/login?done=password")

	res = c.post("/admin/tokens", url.Values{"name": {"script"}, "email": {"staff@comune.example.it"}, "scope": {"vpn"}, "days": {"0"}})
	token := keep(regexp.MustCompile(`rocca_[A-Za-z0-9_-]{43}`).FindString(res.body))
	req, _ := http.NewRequest("GET", s.srv.URL+"/api/vpn/staff", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	wantStatus(t, s.client(t).do(req), http.StatusOK)

	s.clock.Add(time.Minute)
	newPW := keep("nuova-password-admin-2")
	wantRedirect(t, c.post("/account/password", url.Values{"current": {pw}, "password": {newPW}, "password2": {newPW}}), "/account?done=password")
	keep(c.sessionCookie())
	if err := s.svc.SetPassword(WithActor(ctx, "cli"), "staff@comune.example.it", keep("password-da-cli-123")); err != nil {
		t.Fatal(err)
	}

	logs := s.logs.String()
	if !strings.Contains(logs, "login failed") || !strings.Contains(logs, "signed in") {
		t.Fatalf("the log misses the login events, so this test proves nothing:\n%s", logs)
	}
	var audit strings.Builder
	entries, _ := s.svc.AuditLog(ctx, 1000, 0)
	for _, e := range entries {
		audit.WriteString(e.Action + " " + e.Actor + " " + e.IP + " " + fmtJSON(e.Detail) + "\n")
	}
	for _, sec := range secrets {
		if sec == "" {
			t.Fatal("a secret of the scenario is empty")
		}
		if strings.Contains(logs, sec) {
			t.Errorf("secret %q appears in the log", sec)
		}
		if strings.Contains(audit.String(), sec) {
			t.Errorf("secret %q appears in the audit log", sec)
		}
	}
}
