package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

func TestSetupLinkOnlyWhileNoAdmin(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	first, err := e.svc.SetupLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw1, ok := strings.CutPrefix(first, "http://rocca.test/setup/")
	if !ok || len(raw1) < 43 {
		t.Fatalf("setup link = %q", first)
	}
	var stored string
	e.db.QueryRowContext(ctx, `SELECT hash FROM setup_tokens`).Scan(&stored)
	if stored != tokenHash(raw1) {
		t.Fatal("setup token not stored as its SHA-256")
	}
	// A staff user does not count as an admin: the next start makes a new link, the old one dies.
	e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	second, err := e.svc.SetupLink(ctx)
	if err != nil || second == "" || second == first {
		t.Fatalf("second SetupLink = %q, %v", second, err)
	}
	raw2 := strings.TrimPrefix(second, "http://rocca.test/setup/")
	wantCode(t, e.svc.checkLink(ctx, raw1, purposeSetup), rocca.EGONE)
	admin := NewUser{Email: "it@comune.example.it", Name: "IT", Password: "first admin password"}
	_, err = e.svc.completeSetup(ctx, raw1, admin)
	wantCode(t, err, rocca.EGONE)
	u, err := e.svc.completeSetup(ctx, raw2, admin)
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != rocca.RoleAdmin {
		t.Fatalf("setup created a %s", u.Role)
	}
	_, err = e.svc.completeSetup(ctx, raw2, NewUser{Email: "evil@example.com", Name: "E", Password: "another password"})
	wantCode(t, err, rocca.EGONE)
	if link, err := e.svc.SetupLink(ctx); link != "" || err != nil {
		t.Fatalf("SetupLink with an admin = %q, %v; want none", link, err)
	}
	if n := count(e.auditActions(t), "setup.complete"); n != 1 {
		t.Fatalf("setup.complete entries = %d", n)
	}
}

func TestSetupLinkExpires(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	link, _ := e.svc.SetupLink(ctx)
	raw := strings.TrimPrefix(link, "http://rocca.test/setup/")
	e.clock.Add(24*time.Hour + time.Second)
	wantCode(t, e.svc.checkLink(ctx, raw, purposeSetup), rocca.EGONE)
	// A bad form does not use the link up.
	e.clock.Add(-time.Hour)
	_, err := e.svc.completeSetup(ctx, raw, NewUser{Email: "it@comune.example.it", Name: "IT", Password: "short"})
	wantCode(t, err, rocca.EINVALID)
	_, err = e.svc.completeSetup(ctx, raw, NewUser{Email: "not an email", Name: "IT", Password: "long enough password"})
	wantCode(t, err, rocca.EINVALID)
	if err := e.svc.checkLink(ctx, raw, purposeSetup); err != nil {
		t.Fatalf("link used up by an invalid form: %v", err)
	}
	if err := e.svc.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour)
	if err := e.svc.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	e.db.QueryRowContext(ctx, `SELECT count(*) FROM setup_tokens`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d expired setup tokens left after purge", n)
	}
}
