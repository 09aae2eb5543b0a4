package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
)

// Backup writes a consistent copy of the live database to dest with VACUUM INTO, while readers and
// writers go on. dest must not exist.
func (db *DB) Backup(ctx context.Context, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s exists already", dest)
	}
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return os.Chmod(dest, 0o600)
}

// CheckIntegrity opens the database file at path read-only and runs PRAGMA integrity_check; it
// returns an error naming the first problem found.
func CheckIntegrity(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	sdb, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_query_only=1")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer sdb.Close()
	rows, err := sdb.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity check %s: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check %s: %w", path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check %s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}
