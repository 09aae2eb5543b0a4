package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rocca-pa/rocca/internal/sqlite"
)

// dump returns the users and the audit log of a database, for comparison.
func dump(t *testing.T, path string) (users, audit []string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users = rows(t, db.DB, `SELECT email || '|' || name || '|' || role FROM users ORDER BY id`)
	audit = rows(t, db.DB, `SELECT id || '|' || action FROM audit_log ORDER BY id`)
	return users, audit
}

func rows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	r, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for r.Next() {
		var s string
		r.Scan(&s)
		out = append(out, s)
	}
	return out
}

// TestBackupWhileServingAndRestore: a backup taken while the server serves (and writes) restores
// into an empty directory with the same users and audit log; a truncated archive is refused and
// nothing is overwritten.
func TestBackupWhileServingAndRestore(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.start()
	setupAdmin(t, in)
	for _, u := range []string{"anna", "bruno", "carla"} {
		if _, e, code := in.rocca("Password-lunga-123\n", "user", "add", u+"@comune.example.it", "--name", u, "--role", "staff", "--password-stdin"); code != 0 {
			t.Fatalf("user add %s: %s", u, e)
		}
	}
	// Keep the server writing (failed logins go to the audit log) while the backup runs.
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := browser(t)
		for !stop.Load() {
			post(t, c, in.baseURL, "/login", map[string][]string{"email": {"nobody@example.org"}, "password": {"wrong-password"}})
		}
	}()
	archive := filepath.Join(t.TempDir(), "rocca-backup.tar.gz")
	out, errOut, code := in.rocca("", "backup", archive)
	stop.Store(true)
	<-done
	if code != 0 {
		t.Fatalf("backup: %d\n%s%s", code, out, errOut)
	}
	in.stop()

	// The backup is a snapshot: compare with a restore, not with the live database that kept changing.
	target := newInstance(t, t.TempDir())
	out, errOut, code = target.rocca("", "restore", "--verify", archive)
	if code != 0 {
		t.Fatalf("restore: %d\n%s%s", code, out, errOut)
	}
	users, audit := dump(t, filepath.Join(target.dir, "data", "rocca.db"))
	if len(users) != 4 || !strings.Contains(strings.Join(users, ","), "bruno@comune.example.it") {
		t.Fatalf("restored users = %v", users)
	}
	if len(audit) < 4 {
		t.Fatalf("restored audit log has %d entries", len(audit))
	}
	liveUsers, liveAudit := dump(t, filepath.Join(in.dir, "data", "rocca.db"))
	if !reflect.DeepEqual(users, liveUsers) {
		t.Fatalf("users differ: restored %v, live %v", users, liveUsers)
	}
	if !reflect.DeepEqual(audit, liveAudit[:len(audit)]) {
		t.Fatalf("restored audit log is not a prefix of the live one")
	}

	// The restored server starts and the admin can sign in.
	target.start()
	c := browser(t)
	if resp, body := post(t, c, target.baseURL, "/login", map[string][]string{"email": {adminEmail}, "password": {adminPassword}}); resp.StatusCode != 303 {
		t.Fatalf("login on the restored server: %d\n%s", resp.StatusCode, body)
	}
	target.stop()

	// A truncated archive is refused and leaves the restored data untouched.
	body, _ := os.ReadFile(archive)
	bad := filepath.Join(t.TempDir(), "truncated.tar.gz")
	os.WriteFile(bad, body[:len(body)*2/3], 0o600)
	before, _ := os.ReadFile(filepath.Join(target.dir, "data", "rocca.db"))
	_, errOut, code = target.rocca("", "restore", "--verify", bad)
	if code != 1 || !strings.Contains(errOut, "rifiutato") {
		t.Fatalf("truncated restore: exit %d, %q; want 1 and a refusal", code, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(target.dir, "data", "rocca.db"))
	if string(before) != string(after) {
		t.Fatal("a refused restore changed the database")
	}
}

// TestRestoreRefusedWhileServing: restoring under a running server is refused.
func TestRestoreRefusedWhileServing(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.start()
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, e, code := in.rocca("", "backup", archive); code != 0 {
		t.Fatalf("backup: %s", e)
	}
	_, errOut, code := in.rocca("", "restore", archive)
	if code != 1 || !strings.Contains(errOut, "fermalo") {
		t.Fatalf("restore while serving: exit %d, %q", code, errOut)
	}
}
