package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestAdminUsersPages(t *testing.T) {
	s := newSite(t, Options{})
	ctx := context.Background()
	admin := s.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
	c := s.client(t)
	c.login(admin.Email, "admin password 1")

	res := c.post("/admin/users", url.Values{"name": {"Carla Verdi"}, "email": {"carla@comune.example.it"}, "role": {"staff"}})
	wantStatus(t, res, http.StatusCreated)
	wantBody(t, res, "Utente carla@comune.example.it creato.", "http://rocca.test/password/")
	res = c.post("/admin/users", url.Values{"name": {"Dario"}, "email": {"dario@comune.example.it"}, "role": {"councillor"}, "password": {"dario password 1"}})
	wantStatus(t, res, http.StatusCreated)
	if strings.Contains(res.body, "/password/") {
		t.Fatal("a set-password link shown for a user created with a password")
	}
	res = c.post("/admin/users", url.Values{"name": {"Carla"}, "email": {"CARLA@comune.example.it"}, "role": {"staff"}})
	wantStatus(t, res, http.StatusConflict)
	wantBody(t, res, "Esiste già un utente con l&#39;indirizzo carla@comune.example.it.")
	res = c.post("/admin/users", url.Values{"name": {"X"}, "email": {"not-an-address"}, "role": {"staff"}})
	wantStatus(t, res, http.StatusBadRequest)
	wantBody(t, res, `value="not-an-address"`)

	carla, _ := s.svc.UserByEmail(ctx, "carla@comune.example.it")
	base := fmt.Sprintf("/admin/users/%d/", carla.ID)
	wantRedirect(t, c.post(base+"role", url.Values{"role": {"agent"}}), "/admin/users?done=role")
	wantRedirect(t, c.post(base+"disable", nil), "/admin/users?done=disabled")
	if u, _ := s.svc.UserByID(ctx, carla.ID); u.Role != rocca.RoleAgent || !u.Disabled {
		t.Fatalf("after role and disable: %+v", u)
	}
	wantRedirect(t, c.post(base+"enable", nil), "/admin/users?done=enabled")
	res = c.post(base+"password-link", nil)
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "http://rocca.test/password/")
	wantRedirect(t, c.post(base+"totp-reset", nil), "/admin/users?done=totp_reset")
	res = c.post(fmt.Sprintf("/admin/users/%d/disable", admin.ID), nil)
	wantStatus(t, res, http.StatusConflict)
	wantBody(t, res, "ultimo amministratore attivo")
	wantStatus(t, c.post("/admin/users/999/disable", nil), http.StatusNotFound)
	wantStatus(t, c.post("/admin/users/abc/disable", nil), http.StatusNotFound)

	res = c.get("/admin/users?done=role")
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "Ruolo cambiato.", "Carla Verdi", "Operatore helpdesk", "Consigliere")

	// Every admin action is in the audit log, with the admin as actor and the address.
	entries, _ := s.svc.AuditLog(ctx, 100, 0)
	seen := map[string]bool{}
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "user.") || strings.HasPrefix(e.Action, "totp.") {
			if e.Actor == admin.Email && e.IP == "127.0.0.1" {
				seen[e.Action] = true
			}
		}
	}
	for _, want := range []string{"user.create", "user.role", "user.disable", "user.enable", "user.password_link", "totp.reset"} {
		if !seen[want] {
			t.Errorf("no %s entry by %s from 127.0.0.1", want, admin.Email)
		}
	}
}

func TestAdminTokensPages(t *testing.T) {
	s := newSite(t, Options{})
	s.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
	s.user(t, "agent@comune.example.it", rocca.RoleAgent, "agent password 1")
	c := s.client(t)
	c.login("admin@comune.example.it", "admin password 1")
	wantBody(t, c.get("/admin/tokens"), "Nessun token API.")
	res := c.post("/admin/tokens", url.Values{"name": {"monitoraggio"}, "email": {"agent@comune.example.it"}, "days": {"30"}})
	wantStatus(t, res, http.StatusBadRequest)
	wantBody(t, res, "Scegli almeno un", `value="monitoraggio"`)
	res = c.post("/admin/tokens", url.Values{"name": {"monitoraggio"}, "email": {"agent@comune.example.it"}, "scope": {"vpn", "helpdesk"}, "days": {"30"}})
	wantStatus(t, res, http.StatusCreated)
	token := regexp.MustCompile(`rocca_[A-Za-z0-9_-]{43}`).FindString(res.body)
	if token == "" {
		t.Fatalf("new token not shown:\n%s", res.body)
	}
	api := s.client(t)
	req, _ := http.NewRequest("GET", s.srv.URL+"/api/vpn/agent", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	wantStatus(t, api.do(req), http.StatusOK)
	res = c.get("/admin/tokens")
	wantBody(t, res, "monitoraggio", "agent@comune.example.it", "Helpdesk, VPN")
	if strings.Contains(res.body, token) {
		t.Fatal("the token is shown again in the list")
	}
	list, _ := s.svc.Tokens(context.Background(), "")
	wantRedirect(t, c.post(fmt.Sprintf("/admin/tokens/%d/revoke", list[0].ID), nil), "/admin/tokens?done=revoked")
	req, _ = http.NewRequest("GET", s.srv.URL+"/api/vpn/agent", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	wantStatus(t, api.do(req), http.StatusUnauthorized)
	acts := s.auditActions(t)
	if count(acts, "token.create") != 1 || count(acts, "token.revoke") != 1 {
		t.Fatalf("audit = %v", acts)
	}
}

func TestAdminAuditPage(t *testing.T) {
	s := newSite(t, Options{})
	ctx := context.Background()
	s.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
	for i := 0; i < 60; i++ {
		s.svc.Audit(WithActor(ctx, "cli"), "test.entry", map[string]any{"n": i})
	}
	c := s.client(t)
	c.login("admin@comune.example.it", "admin password 1")
	res := c.get("/admin/audit")
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "login.success", "127.0.0.1", "Meno recenti")
	m := regexp.MustCompile(`/admin/audit\?before=(\d+)`).FindStringSubmatch(res.body)
	if m == nil {
		t.Fatal("no link to older entries")
	}
	res = c.get("/admin/audit?before=" + m[1])
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "user.create", "Più recenti", `{&#34;n&#34;:0}`)
	if strings.Contains(res.body, "login.success") {
		t.Fatal("the older page repeats the newest entries")
	}
}
