package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestAuditAppendOnly(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	admin := e.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
	actx := WithRemoteIP(rocca.NewContextWithUser(ctx, admin), "192.0.2.5")
	if _, err := e.svc.CreateUser(actx, NewUser{Email: "s@comune.example.it", Name: "S", Role: rocca.RoleStaff}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Audit(WithActor(ctx, "cli"), "backup.run", map[string]any{"file": "/x", "password": "hunter2hunter2", "api_token": "rocca_abc", "with_password": true}); err != nil {
		t.Fatal(err)
	}
	entries, err := e.svc.AuditLog(ctx, 10, 0)
	if err != nil || len(entries) != 3 {
		t.Fatalf("AuditLog = %d entries, %v", len(entries), err)
	}
	cli, create, first := entries[0], entries[1], entries[2]
	if first.Actor != "system" || first.Action != "user.create" {
		t.Errorf("first entry = %+v", first)
	}
	if create.Actor != admin.Email || create.ActorID != admin.ID || create.IP != "192.0.2.5" || create.Detail["email"] != "s@comune.example.it" {
		t.Errorf("admin entry = %+v", create)
	}
	if cli.Actor != "cli" || cli.Detail["password"] != "[redacted]" || cli.Detail["api_token"] != "[redacted]" || cli.Detail["with_password"] != true {
		t.Errorf("cli entry = %+v", cli)
	}
	older, _ := e.svc.AuditLog(ctx, 10, create.ID)
	if len(older) != 1 || older[0].ID != first.ID {
		t.Errorf("page before %d = %+v", create.ID, older)
	}
	for _, q := range []string{`UPDATE audit_log SET actor = 'x'`, `DELETE FROM audit_log`, `DELETE FROM audit_log WHERE id = 1`} {
		_, err := e.db.ExecContext(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only trigger to refuse", q, err)
		}
	}
	if n, _ := e.svc.AuditLog(ctx, 10, 0); len(n) != 3 {
		t.Errorf("entries after refused changes = %d", len(n))
	}
}
