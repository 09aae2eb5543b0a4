package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

func TestTokens(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user(t, "agent@comune.example.it", rocca.RoleAgent, "agent password 1")
	_, err := e.svc.CreateToken(ctx, u.Email, "script", nil, 0)
	wantCode(t, err, rocca.EINVALID)
	_, err = e.svc.CreateToken(ctx, u.Email, "script", []string{"root"}, 0)
	wantCode(t, err, rocca.EINVALID)
	_, err = e.svc.CreateToken(ctx, "nobody@comune.example.it", "script", []string{"vpn"}, 0)
	wantCode(t, err, rocca.ENOTFOUND)
	raw, err := e.svc.CreateToken(ctx, u.Email, "monitoring", []string{"helpdesk", "vpn", "vpn"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, "rocca_") || len(raw) < len("rocca_")+43 {
		t.Fatalf("token %q: want rocca_ and 256 random bits", raw)
	}
	var stored string
	e.db.QueryRowContext(ctx, `SELECT hash FROM api_tokens`).Scan(&stored)
	if stored != tokenHash(raw) || strings.Contains(stored, raw[6:]) {
		t.Fatal("token not stored as its SHA-256 only")
	}
	tok, a, err := e.svc.lookupToken(ctx, raw)
	if err != nil || tok == nil || a.ID != u.ID {
		t.Fatalf("lookupToken = %v, %v, %v", tok, a, err)
	}
	if strings.Join(tok.Scopes, ",") != "helpdesk,vpn" {
		t.Fatalf("scopes = %v", tok.Scopes)
	}
	list, err := e.svc.Tokens(ctx, u.Email)
	if err != nil || len(list) != 1 || list[0].Name != "monitoring" || list[0].LastUsedAt.IsZero() {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}
	if tk, _, _ := e.svc.lookupToken(ctx, raw+"x"); tk != nil {
		t.Fatal("altered token accepted")
	}
	e.clock.Add(time.Hour)
	if tk, _, _ := e.svc.lookupToken(ctx, raw); tk != nil {
		t.Fatal("expired token accepted")
	}
	forever, _ := e.svc.CreateToken(ctx, u.Email, "forever", []string{"vpn"}, 0)
	e.clock.Add(1000 * 24 * time.Hour)
	if tk, _, _ := e.svc.lookupToken(ctx, forever); tk == nil {
		t.Fatal("token without expiry expired")
	}
	all, _ := e.svc.Tokens(ctx, "")
	if len(all) != 2 {
		t.Fatalf("all tokens = %d", len(all))
	}
	wantCode(t, e.svc.RevokeToken(ctx, 999), rocca.ENOTFOUND)
	if err := e.svc.RevokeToken(ctx, all[0].ID); err != nil {
		t.Fatal(err)
	}
	if tk, _, _ := e.svc.lookupToken(ctx, forever); tk != nil {
		t.Fatal("revoked token accepted")
	}
}

func TestScopeAllows(t *testing.T) {
	for _, tc := range []struct {
		scopes []string
		path   string
		want   bool
	}{
		{[]string{"vpn"}, "/api/vpn/peers", true},
		{[]string{"vpn"}, "/api/vpnx/peers", false},
		{[]string{"vpn"}, "/api/helpdesk/tickets", false},
		{[]string{"vpn"}, "/vpn/peers", false},
		{[]string{"admin"}, "/api/helpdesk/tickets", true},
		{[]string{"admin"}, "/admin/users", false},
		{[]string{"vpn"}, "/api/", false},
	} {
		if got := scopeAllows(tc.scopes, tc.path); got != tc.want {
			t.Errorf("scopeAllows(%v, %q) = %v, want %v", tc.scopes, tc.path, got, tc.want)
		}
	}
}
