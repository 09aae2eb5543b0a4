package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenSettings(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var mode string
	var fk int
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v; want 1", fk, err)
	}
	fi, err := os.Stat(db.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := db.ExecContext(ctx, `CREATE VIRTUAL TABLE f USING fts5(body)`); err != nil {
		t.Fatalf("fts5 missing (build with -tags sqlite_fts5): %v", err)
	}
}

func TestMigrateOnceInOrder(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	fsys := fstest.MapFS{
		"001_a.sql": {Data: []byte(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);`)},
		"002_b.sql": {Data: []byte(`INSERT INTO t (v) VALUES ('x');`)},
	}
	for i := 0; i < 2; i++ {
		if err := db.Migrate(ctx, Migrations{Part: "test", FS: fsys}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows = %d, %v; want 1 (each migration applied once)", n, err)
	}
}

func TestMigrateFailureRollsBack(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	fsys := fstest.MapFS{"001_bad.sql": {Data: []byte(`CREATE TABLE u (id INTEGER); SELECT nonsense FROM nowhere;`)}}
	if err := db.Migrate(ctx, Migrations{Part: "test", FS: fsys}); err == nil {
		t.Fatal("bad migration succeeded")
	}
	var n int
	db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'u'`).Scan(&n)
	if n != 0 {
		t.Fatal("half-applied migration left table u behind")
	}
}

func TestWithTxRollbackAndUnique(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	db.ExecContext(ctx, `CREATE TABLE k (name TEXT UNIQUE)`)
	boom := errors.New("boom")
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		tx.ExecContext(ctx, `INSERT INTO k VALUES ('a')`)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	db.ExecContext(ctx, `INSERT INTO k VALUES ('a')`)
	_, err = db.ExecContext(ctx, `INSERT INTO k VALUES ('a')`)
	if !IsUniqueViolation(err) {
		t.Fatalf("IsUniqueViolation(%v) = false", err)
	}
}

func TestBackupAndIntegrity(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	db.ExecContext(ctx, `CREATE TABLE k (name TEXT)`)
	db.ExecContext(ctx, `INSERT INTO k VALUES ('kept')`)
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := db.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := CheckIntegrity(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, dest); err == nil {
		t.Fatal("backup over an existing file succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	body, _ := os.ReadFile(dest)
	os.WriteFile(bad, body[:len(body)/2], 0o600)
	if err := CheckIntegrity(ctx, bad); err == nil {
		t.Fatal("truncated database passed the integrity check")
	}
}
