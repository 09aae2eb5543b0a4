package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
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

// oauthAccounts opens the mail accounts of an instance's data dir with one OAuth2 account at p.
func oauthAccounts(t *testing.T, dataDir string, p *oauthtest.Provider) *mail.Accounts {
	t.Helper()
	ctx := context.Background()
	os.MkdirAll(dataDir, 0o700)
	db, err := sqlite.Open(ctx, filepath.Join(dataDir, "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, mail.Migrations()); err != nil {
		t.Fatal(err)
	}
	s := mail.NewAccounts(db, mail.AccountsOptions{DataDir: dataDir, PublicURL: "http://127.0.0.1:8080"})
	if _, err := s.Add(ctx, mail.AccountConfig{Name: "helpdesk", User: p.Email, Method: mail.MethodOAuth2,
		OAuth2: mail.OAuth2Config{Provider: mail.ProviderGeneric, ClientID: oauthtest.ClientID, AuthURL: p.AuthURL(),
			TokenURL: p.TokenURL(), DeviceURL: p.DeviceURL(), Scopes: []string{"mail", "offline_access"}}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// archiveMembers lists the files of a backup archive and returns its unpacked bytes.
func archiveMembers(t *testing.T, path string) (map[string]bool, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[h.Name] = true
	}
	return names, raw
}

// TestBackupOAuthKeyOnlyWhenAsked: the key of the mail accounts' OAuth2 sign-ins is not in a backup
// unless asked for with --with-oauth-key. Restored without it, the account must sign in again;
// restored with it, the key is back (0600) and the account stays signed in. The refresh token is
// in neither archive in plain text.
func TestBackupOAuthKeyOnlyWhenAsked(t *testing.T) {
	p := oauthtest.New(t)
	in := newInstance(t, t.TempDir())
	dataDir := filepath.Join(in.dir, "data")
	s := oauthAccounts(t, dataDir, p)
	if _, stderr, code := in.rocca("", "backup", "--with-oauth-key", filepath.Join(t.TempDir(), "x.tar.gz")); code != 1 ||
		!strings.Contains(stderr, "Nessuna chiave OAuth2") {
		t.Errorf("--with-oauth-key before any sign-in: exit %d\n%s", code, stderr)
	}
	if _, err := s.DeviceLogin(context.Background(), "helpdesk", func(dc mail.DeviceCode) { p.ApproveDevice(dc.UserCode) }, nil); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(dataDir, mail.KeyFileName))

	plain := filepath.Join(t.TempDir(), "plain.tar.gz")
	if out, stderr, code := in.rocca("", "backup", plain); code != 0 || strings.Contains(out, "oauth") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, stderr)
	}
	with := filepath.Join(t.TempDir(), "with.tar.gz")
	out, stderr, code := in.rocca("", "backup", "--with-oauth-key", with)
	if code != 0 || !strings.Contains(out, "contiene anche la chiave degli accessi OAuth2") {
		t.Fatalf("backup --with-oauth-key: exit %d\n%s%s", code, out, stderr)
	}
	plainNames, plainRaw := archiveMembers(t, plain)
	withNames, withRaw := archiveMembers(t, with)
	if plainNames["data/oauth.key"] || !withNames["data/oauth.key"] || !plainNames["rocca.db"] {
		t.Fatalf("members: default %v, with the key %v", plainNames, withNames)
	}
	if bytes.Contains(plainRaw, key) {
		t.Error("the default archive holds the key's bytes")
	}
	for _, rt := range p.RefreshTokens() {
		if bytes.Contains(plainRaw, []byte(rt)) || bytes.Contains(withRaw, []byte(rt)) {
			t.Error("an archive holds the refresh token in plain text")
		}
	}

	// Restored with the key: back, 0600, and the sign-in still works.
	restored := newInstance(t, t.TempDir())
	out, stderr, code = restored.rocca("", "restore", with)
	if code != 0 || !strings.Contains(out, "Ripristinata anche la chiave") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
	}
	rkey := filepath.Join(restored.dir, "data", mail.KeyFileName)
	if got, _ := os.ReadFile(rkey); !bytes.Equal(got, key) {
		t.Error("the restored key differs")
	}
	if fi, err := os.Stat(rkey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("restored key: %v %v", fi, err)
	}
	if st, err := oauthAccounts(t, filepath.Join(restored.dir, "data"), p).AccountStatus(context.Background(), "helpdesk"); err != nil || st.State != mail.StatusReady {
		t.Errorf("after a restore with the key: %+v %v", st, err)
	}

	// Restored without it: the sign-in cannot be read, and the status says to sign in again.
	bare := newInstance(t, t.TempDir())
	if out, stderr, code := bare.rocca("", "restore", plain); code != 0 || strings.Contains(out, "oauth.key") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
	}
	st, err := oauthAccounts(t, filepath.Join(bare.dir, "data"), p).AccountStatus(context.Background(), "helpdesk")
	if err != nil || st.State != mail.StatusNotConnected || st.ProblemKey != "mail.account.error.key_lost" {
		t.Errorf("after a restore without the key: %+v %v", st, err)
	}
}
