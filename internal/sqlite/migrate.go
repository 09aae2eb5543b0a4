package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Migrations are one part's schema changes: the *.sql files at the top of FS, applied in name order.
// A file, once released, is never edited; a change is a new file.
type Migrations struct {
	Part string // "core", "auth", "vpn", …: recorded with each file name
	FS   fs.FS
}

// Migrate applies, in order, every migration file of each part that is not yet recorded. Each file
// runs in its own transaction together with its record, so a failure leaves no half-applied file.
func (db *DB) Migrate(ctx context.Context, parts ...Migrations) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		part TEXT NOT NULL,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
		PRIMARY KEY (part, name))`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, p := range parts {
		if err := db.migratePart(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) migratePart(ctx context.Context, p Migrations) error {
	names, err := fs.Glob(p.FS, "*.sql")
	if err != nil {
		return fmt.Errorf("migrations %s: %w", p.Part, err)
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := fs.ReadFile(p.FS, name)
		if err != nil {
			return fmt.Errorf("migration %s/%s: %w", p.Part, name, err)
		}
		err = db.WithTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE part = ? AND name = ?`, p.Part, name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if strings.TrimSpace(string(body)) != "" {
				if _, err := tx.ExecContext(ctx, string(body)); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (part, name) VALUES (?, ?)`, p.Part, name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s/%s: %w", p.Part, name, err)
		}
	}
	return nil
}
