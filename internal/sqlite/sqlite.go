// Package sqlite opens Rocca's one SQLite database (WAL, foreign keys, busy timeout, immediate write
// transactions), applies the embedded migrations of each part, runs transactions and takes online
// backups. It knows no tables: each part owns its SQL and its migrations.
//
// Build with the tag sqlite_fts5 (the helpdesk search needs FTS5).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/rocca-pa/rocca"
)

// DB is the database. Reads run concurrently; writes in WithTx take the write lock at BEGIN
// (BEGIN IMMEDIATE), so two writers queue on the busy timeout instead of failing on upgrade.
type DB struct {
	*sql.DB
	path string
}

// Open opens (creating if needed) the database file at path. The directory is created 0700.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	sdb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sdb.SetMaxOpenConns(8)
	sdb.SetConnMaxIdleTime(0)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Keep the file private: it holds password hashes and session ids.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			sdb.Close()
			return nil, fmt.Errorf("protect database file: %w", err)
		}
	}
	return &DB{DB: sdb, path: path}, nil
}

// Path returns the database file name.
func (db *DB) Path() string { return db.path }

// WithTx runs fn in a write transaction, committing if fn returns nil and rolling back otherwise.
func (db *DB) WithTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint failure, so adapters
// can turn it into rocca.ECONFLICT.
func IsUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

// NotFound maps sql.ErrNoRows to a rocca.ENOTFOUND error with the given message, and passes any other
// error through wrapped with the message.
func NotFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return rocca.Errorf(rocca.ENOTFOUND, "%s not found", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}
