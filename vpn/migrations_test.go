package vpn

import (
	"context"
	"io/fs"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// TestMigrationAddrNum: devices stored before migration 002 get their address as a number.
func TestMigrationAddrNum(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first, err := fs.ReadFile(migrationFiles, "migrations/001_vpn.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, auth.Migrations(), sqlite.Migrations{Part: "vpn", FS: fstest.MapFS{"001_vpn.sql": {Data: first}}}); err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	users, err := auth.NewService(db, cat, slog.New(slog.DiscardHandler), time.Now, auth.Options{PasswordParams: auth.PasswordParams{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.CreateUser(ctx, auth.NewUser{Email: "anna@comune.example.it", Name: "Anna", Role: rocca.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	addrs := []string{"10.86.0.2", "10.86.1.255", "172.31.255.254", "1.2.3.4"}
	for i, a := range addrs {
		if _, err := db.ExecContext(ctx, `INSERT INTO vpn_peers (owner_id, name, public_key, address, created_at) VALUES (?, ?, ?, ?, 1)`,
			u.ID, a, "key"+a, a); err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
	}
	if err := db.Migrate(ctx, auth.Migrations(), Migrations()); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT addr_num FROM vpn_peers WHERE address = ?`, a).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := addrNum(netip.MustParseAddr(a)); n != want || addrFromNum(n).String() != a {
			t.Errorf("%s: addr_num %d, want %d", a, n, want)
		}
	}
}
