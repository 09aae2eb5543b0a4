package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

func TestRequireRoleMatrix(t *testing.T) {
	s := newSite(t, Options{})
	clients := map[rocca.Role]*client{}
	for _, role := range rocca.Roles() {
		email := string(role) + "@comune.example.it"
		s.user(t, email, role, string(role)+" password 1")
		clients[role] = s.client(t)
		clients[role].login(email, string(role)+" password 1")
	}
	for _, who := range rocca.Roles() {
		for _, route := range rocca.Roles() {
			want := http.StatusForbidden
			if who == route || who == rocca.RoleAdmin {
				want = http.StatusOK
			}
			res := clients[who].get("/probe/" + string(route))
			if res.StatusCode != want {
				t.Errorf("%s on a %s page: %d, want %d", who, route, res.StatusCode, want)
			}
			if res := clients[who].get("/api/vpn/" + string(route)); res.StatusCode != want {
				t.Errorf("%s on a %s API: %d, want %d", who, route, res.StatusCode, want)
			}
		}
		wantStatus(t, clients[who].get("/probe/any"), http.StatusOK)
		for _, admin := range []string{"/admin/users", "/admin/audit", "/admin/tokens"} {
			want := http.StatusForbidden
			if who == rocca.RoleAdmin {
				want = http.StatusOK
			}
			if res := clients[who].get(admin); res.StatusCode != want {
				t.Errorf("%s on %s: %d, want %d", who, admin, res.StatusCode, want)
			}
		}
	}
	res := clients[rocca.RoleStaff].get("/admin/users")
	wantBody(t, res, "Il tuo account non ha il permesso di farlo.")
	anon := s.client(t)
	wantRedirect(t, anon.get("/probe/staff"), "/login?next=%2Fprobe%2Fstaff")
	wantRedirect(t, anon.get("/admin/users"), "/login?next=%2Fadmin%2Fusers")
	res = anon.get("/api/vpn/staff")
	wantStatus(t, res, http.StatusUnauthorized)
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(res.body), &body); err != nil || body.Error.Code != "unauthorized" || body.Error.Message != "Accedi per continuare." {
		t.Fatalf("401 body %q: %v", res.body, err)
	}
	// A disabled user's session stops at once.
	if err := s.svc.DisableUser(context.Background(), "staff@comune.example.it"); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, clients[rocca.RoleStaff].get("/probe/staff"), "/login?next=%2Fprobe%2Fstaff")
}

func TestAPITokenAuth(t *testing.T) {
	s := newSite(t, Options{})
	ctx := context.Background()
	s.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
	s.user(t, "agent@comune.example.it", rocca.RoleAgent, "agent password 1")
	vpn, err := s.svc.CreateToken(ctx, "agent@comune.example.it", "vpn script", []string{"vpn", "helpdesk"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	adminVPN, _ := s.svc.CreateToken(ctx, "admin@comune.example.it", "vpn only", []string{"vpn"}, 0)
	adminAll, _ := s.svc.CreateToken(ctx, "admin@comune.example.it", "all", []string{"admin"}, 0)
	call := func(token, path string) response {
		c := s.client(t)
		req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return c.do(req)
	}
	res := call(vpn, "/api/vpn/agent")
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "ok agent@comune.example.it")
	wantStatus(t, call(vpn, "/api/helpdesk/any"), http.StatusOK)
	wantStatus(t, call(vpn, "/api/vpn/staff"), http.StatusForbidden)         // role still counts
	wantStatus(t, call(adminVPN, "/api/vpn/admin"), http.StatusForbidden)    // admin role without the admin scope
	wantStatus(t, call(adminVPN, "/api/helpdesk/any"), http.StatusForbidden) // outside its scopes
	wantStatus(t, call(adminAll, "/api/vpn/admin"), http.StatusOK)
	wantStatus(t, call(adminAll, "/api/helpdesk/any"), http.StatusOK)
	wantStatus(t, call(adminAll, "/admin/users"), http.StatusForbidden) // tokens are not for pages
	wantStatus(t, call("rocca_forged", "/api/vpn/agent"), http.StatusUnauthorized)
	wantStatus(t, call(vpn[:len(vpn)-1], "/api/vpn/agent"), http.StatusUnauthorized)

	s.clock.Add(time.Hour)
	wantStatus(t, call(vpn, "/api/vpn/agent"), http.StatusUnauthorized)
	wantStatus(t, call(adminAll, "/api/vpn/admin"), http.StatusOK)
	list, _ := s.svc.Tokens(ctx, "admin@comune.example.it")
	for _, tk := range list {
		if tk.Name == "all" {
			if err := s.svc.RevokeToken(ctx, tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantStatus(t, call(adminAll, "/api/vpn/admin"), http.StatusUnauthorized)
}

// Without Middleware (a wiring mistake) Require still refuses: nobody is let through unchecked.
func TestRequireWithoutMiddleware(t *testing.T) {
	h := Require(rocca.RoleAdmin)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler reached")
	}))
	for _, tc := range []struct {
		path   string
		user   *rocca.User
		status int
	}{
		{"/admin/users", nil, http.StatusSeeOther},
		{"/api/vpn/x", nil, http.StatusUnauthorized},
		{"/admin/users", &rocca.User{Email: "s@x.it", Role: rocca.RoleStaff}, http.StatusForbidden},
		{"/api/vpn/x", &rocca.User{Email: "s@x.it", Role: rocca.RoleStaff}, http.StatusForbidden},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.user != nil {
			req = req.WithContext(rocca.NewContextWithUser(req.Context(), tc.user))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s as %v: %d, want %d", tc.path, tc.user, rec.Code, tc.status)
		}
	}
}
