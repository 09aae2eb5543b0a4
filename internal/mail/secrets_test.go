package mail

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/internal/backup"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
)

// TestRefreshTokensAppearNowhere is acceptance 6: after sign-ins from the web, refreshes with
// rotation, logins and a revocation, no refresh token is in the database files, the logs or a
// backup archive, and no access token is in the logs or the database.
func TestRefreshTokensAppearNowhere(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	e.p.Set(func(p *oauthtest.Provider) { p.RotateRefresh = true })
	e.signIn()
	var used []string
	for range 2 {
		e.clock.Advance(2 * time.Hour)
		if err := e.acct.Authenticate(ctx, []string{"XOAUTH2"}, fakeServer(t, e.p, &used)); err != nil {
			t.Fatal(err)
		}
	}
	e.signIn()
	e.p.RevokeRefreshTokens()
	e.clock.Advance(2 * time.Hour)
	e.acct.Authenticate(ctx, []string{"XOAUTH2"}, fakeServer(t, e.p, &used))
	e.signIn()

	refresh, access := e.p.RefreshTokens(), e.p.AccessTokens()
	if len(refresh) < 4 || len(access) < 4 {
		t.Fatalf("test setup: %d refresh and %d access tokens issued", len(refresh), len(access))
	}
	os.MkdirAll(filepath.Join(e.dir, "keys"), 0o700)
	os.WriteFile(filepath.Join(e.dir, "keys", "auth.key"), []byte("server key"), 0o600)
	archive := filepath.Join(t.TempDir(), "backup.tar.gz")
	if _, err := backup.Create(ctx, backup.Source{DB: e.db, DataDir: e.dir, Version: "test"}, archive); err != nil {
		t.Fatal(err)
	}

	places := map[string]string{"logs": e.logs.String()}
	for _, name := range []string{"rocca.db", "rocca.db-wal", "rocca.db-shm"} {
		if b, err := os.ReadFile(filepath.Join(e.dir, name)); err == nil {
			places[name] = string(b)
		}
	}
	entries := archiveEntries(t, archive)
	if _, ok := entries["rocca.db"]; !ok {
		t.Fatalf("the archive has no database: %v", keys(entries))
	}
	for name, body := range entries {
		if strings.HasSuffix(name, KeyFileName) {
			t.Errorf("the backup holds the key %s", name)
		}
		places["backup:"+name] = body
	}
	for where, content := range places {
		for _, tok := range refresh {
			if strings.Contains(content, tok) {
				t.Errorf("a refresh token is in %s", where)
			}
		}
		if where == "logs" || strings.HasPrefix(where, "rocca.db") {
			for _, tok := range access {
				if strings.Contains(content, tok) {
					t.Errorf("an access token is in %s", where)
				}
			}
		}
	}
	if !strings.Contains(places["logs"], "mail account signed in") {
		t.Error("the logs are empty: the test looked at nothing")
	}
}

func archiveEntries(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
