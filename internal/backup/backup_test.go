package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

func setup(t *testing.T) (Source, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	db, err := sqlite.Open(ctx, filepath.Join(data, "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.ExecContext(ctx, `CREATE TABLE users (email TEXT)`)
	db.ExecContext(ctx, `INSERT INTO users VALUES ('anna@comune.example.it')`)
	os.MkdirAll(filepath.Join(data, "keys"), 0o700)
	os.WriteFile(filepath.Join(data, "keys", "server.key"), []byte("secret-key"), 0o600)
	cfg := filepath.Join(dir, "rocca.toml")
	os.WriteFile(cfg, []byte("[server]\n"), 0o640)
	return Source{DB: db, DataDir: data, ConfigFile: cfg, Version: "test"}, dir
}

func count(t *testing.T, path string) int {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	src, dir := setup(t)
	archive := filepath.Join(dir, "b.tar.gz")
	m, err := Create(context.Background(), src, archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 3 {
		t.Fatalf("files = %+v; want db, config, key", m.Files)
	}
	if fi, _ := os.Stat(archive); fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive mode %v; want 0600 (it holds keys)", fi.Mode().Perm())
	}
	target := Target{DataDir: filepath.Join(dir, "restored"), ConfigFile: filepath.Join(dir, "etc", "rocca.toml")}
	res, err := Restore(context.Background(), archive, target)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, filepath.Join(target.DataDir, "rocca.db")); n != 1 {
		t.Fatalf("restored users = %d", n)
	}
	if b, _ := os.ReadFile(filepath.Join(target.DataDir, "keys", "server.key")); string(b) != "secret-key" {
		t.Fatalf("key = %q", b)
	}
	if _, err := os.Stat(target.ConfigFile); err != nil || res.MovedAside != "" {
		t.Fatalf("config not restored (%v) or something moved aside in an empty dir (%q)", err, res.MovedAside)
	}
	// A second restore over the first keeps the replaced files aside and the live config.
	res, err = Restore(context.Background(), archive, target)
	if err != nil {
		t.Fatal(err)
	}
	if res.MovedAside == "" || res.ConfigNote == "" {
		t.Fatalf("second restore: %+v; want files moved aside and config kept", res)
	}
}

func TestTruncatedArchiveChangesNothing(t *testing.T) {
	src, dir := setup(t)
	archive := filepath.Join(dir, "b.tar.gz")
	if _, err := Create(context.Background(), src, archive); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(archive)
	for _, cut := range []int{len(body) / 3, len(body) - 40} {
		bad := filepath.Join(dir, "bad.tar.gz")
		os.WriteFile(bad, body[:cut], 0o600)
		target := Target{DataDir: src.DataDir, ConfigFile: src.ConfigFile}
		before, _ := os.ReadFile(filepath.Join(src.DataDir, "keys", "server.key"))
		_, err := Restore(context.Background(), bad, target)
		if rocca.ErrorCodeOf(err) != rocca.EINVALID {
			t.Fatalf("cut at %d: err = %v; want EINVALID", cut, err)
		}
		after, _ := os.ReadFile(filepath.Join(src.DataDir, "keys", "server.key"))
		if string(before) != string(after) || count(t, filepath.Join(src.DataDir, "rocca.db")) != 1 {
			t.Fatal("a refused restore changed the data dir")
		}
		entries, _ := os.ReadDir(src.DataDir)
		for _, e := range entries {
			if e.Name() != "rocca.db" && e.Name() != "rocca.db-wal" && e.Name() != "rocca.db-shm" && e.Name() != "keys" {
				t.Fatalf("refused restore left %s behind", e.Name())
			}
		}
	}
}

func TestSafeName(t *testing.T) {
	for name, want := range map[string]bool{"rocca.db": true, "data/keys/x": true, "../x": false, "/etc/passwd": false, "data/../../x": false} {
		if safeName(name) != want {
			t.Errorf("safeName(%q) = %v", name, !want)
		}
	}
}

// members lists the names in an archive.
func members(t *testing.T, m *Manifest) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, f := range m.Files {
		names[f.Name] = true
	}
	return names
}

// TestOAuthKeyOnlyWhenAsked: the key of the mail accounts' OAuth2 sign-ins stays out of an archive
// unless asked for; asked for, it is archived and a restore puts it back, 0600, byte for byte.
func TestOAuthKeyOnlyWhenAsked(t *testing.T) {
	src, dir := setup(t)
	key := filepath.Join(src.DataDir, "oauth.key")
	secret := []byte("0123456789abcdef0123456789abcdef")
	if err := os.WriteFile(key, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.tar.gz")
	m, err := Create(context.Background(), src, plain)
	if err != nil {
		t.Fatal(err)
	}
	if names := members(t, m); names[OAuthKeyName] || !names["data/keys/server.key"] {
		t.Fatalf("default archive holds %v; want the server keys without %s", names, OAuthKeyName)
	}
	if body, _ := os.ReadFile(plain); bytes.Contains(gunzip(t, body), secret) {
		t.Fatal("the default archive contains the OAuth2 key")
	}

	src.OAuthKey = key
	with := filepath.Join(dir, "with.tar.gz")
	if m, err = Create(context.Background(), src, with); err != nil {
		t.Fatal(err)
	}
	if !members(t, m)[OAuthKeyName] {
		t.Fatalf("archive with the key holds %+v", m.Files)
	}
	target := Target{DataDir: filepath.Join(dir, "restored"), ConfigFile: filepath.Join(dir, "etc", "rocca.toml")}
	res, err := Restore(context.Background(), with, target)
	if err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(target.DataDir, "oauth.key")
	got, err := os.ReadFile(restored)
	if err != nil || !bytes.Equal(got, secret) || !res.OAuthKey {
		t.Fatalf("restored key %q (%v), result %+v", got, err, res)
	}
	if fi, _ := os.Stat(restored); fi.Mode().Perm() != 0o600 {
		t.Errorf("restored key mode %v; want 0600", fi.Mode().Perm())
	}

	// Restoring the plain archive over it leaves the key where it is: nothing to put back.
	if res, err = Restore(context.Background(), plain, target); err != nil || res.OAuthKey {
		t.Fatalf("plain restore: %+v, %v", res, err)
	}
	if got, _ := os.ReadFile(restored); !bytes.Equal(got, secret) {
		t.Error("a restore without the key touched the key file")
	}
}

func gunzip(t *testing.T, body []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The council sessions' records are in the archive and come back; their recordings are not.
func TestBackupKeepsCouncilRecords(t *testing.T) {
	src, dir := setup(t)
	council := filepath.Join(src.DataDir, "council")
	os.MkdirAll(filepath.Join(council, "s1-rec1"), 0o700)
	os.WriteFile(filepath.Join(council, "s1.record"), []byte("{\"seq\":1}\n"), 0o600)
	os.WriteFile(filepath.Join(council, "s1-rec1", "anna-audio-1.webm"), []byte("webm"), 0o600)
	archive := filepath.Join(dir, "b.tar.gz")
	m, err := Create(context.Background(), src, archive)
	if err != nil {
		t.Fatal(err)
	}
	if names := members(t, m); !names["data/council/s1.record"] || names["data/council/s1-rec1/anna-audio-1.webm"] {
		t.Fatalf("archive members: %v", names)
	}
	target := Target{DataDir: filepath.Join(dir, "restored"), ConfigFile: filepath.Join(dir, "etc", "rocca.toml")}
	if _, err := Restore(context.Background(), archive, target); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(target.DataDir, "council", "s1.record")); string(b) != "{\"seq\":1}\n" {
		t.Fatalf("restored record: %q", b)
	}
}
