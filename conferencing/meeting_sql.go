package conferencing

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const meetingColumns = `id, public_id, title, starts_at, duration_min, passcode, locked, council,
	coalesce(created_by, 0), created_at, ended_at`

func scanMeeting(row interface{ Scan(...any) error }) (*Meeting, error) {
	var m Meeting
	var starts, created, ended int64
	err := row.Scan(&m.ID, &m.PublicID, &m.Title, &starts, &m.DurationMin, &m.Passcode, &m.Locked, &m.Council,
		&m.CreatedBy, &created, &ended)
	if err != nil {
		return nil, err
	}
	m.StartsAt, m.CreatedAt = time.Unix(starts, 0), time.Unix(created, 0)
	if ended != 0 {
		m.EndedAt = time.Unix(ended, 0)
	}
	return &m, nil
}

func insertMeeting(ctx context.Context, tx *sql.Tx, m *Meeting) error {
	var createdBy any
	if m.CreatedBy > 0 {
		createdBy = m.CreatedBy
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO conf_meetings
		(public_id, title, starts_at, duration_min, passcode, locked, council, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.PublicID, m.Title, m.StartsAt.Unix(), m.DurationMin, m.Passcode, m.Locked, m.Council, createdBy, m.CreatedAt.Unix())
	if err != nil {
		return fmt.Errorf("insert meeting: %w", err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	for _, h := range m.Hosts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO conf_hosts (meeting_id, user_id) VALUES (?, ?)`, m.ID, h); err != nil {
			if strings.Contains(err.Error(), "FOREIGN KEY") {
				return rocca.Localized(rocca.EINVALID, "conf.error.host_unknown", fmt.Sprintf("no account %d for host", h), h)
			}
			return fmt.Errorf("insert host: %w", err)
		}
	}
	return nil
}

// meetingByPublicID returns the meeting with its hosts.
func meetingByPublicID(ctx context.Context, q querier, publicID string) (*Meeting, error) {
	m, err := scanMeeting(q.QueryRowContext(ctx, `SELECT `+meetingColumns+` FROM conf_meetings WHERE public_id = ?`, publicID))
	if err != nil {
		return nil, meetingNotFound(err)
	}
	if m.Hosts, err = hostsOf(ctx, q, m.ID); err != nil {
		return nil, err
	}
	return m, nil
}

func meetingNotFound(err error) error {
	if err == sql.ErrNoRows {
		return rocca.Localized(rocca.ENOTFOUND, "conf.error.meeting_not_found", "meeting not found")
	}
	return fmt.Errorf("meeting: %w", err)
}

func hostsOf(ctx context.Context, q querier, meetingID int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT user_id FROM conf_hosts WHERE meeting_id = ? ORDER BY user_id`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	defer rows.Close()
	hosts := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		hosts = append(hosts, id)
	}
	return hosts, rows.Err()
}

func listMeetings(ctx context.Context, db *sqlite.DB, f MeetingFilter) ([]*Meeting, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.UserID != 0 || f.Email != "" {
		where = append(where, `(created_by = ?
			OR id IN (SELECT meeting_id FROM conf_hosts WHERE user_id = ?)
			OR id IN (SELECT meeting_id FROM conf_invitees WHERE user_id = ? OR (email = ? AND email != '')))`)
		args = append(args, f.UserID, f.UserID, f.UserID, f.Email)
	}
	if !f.Since.IsZero() {
		where = append(where, `(ended_at = 0 OR ended_at >= ?) AND starts_at + duration_min * 60 >= ?`)
		args = append(args, f.Since.Unix(), f.Since.Add(-24*time.Hour).Unix())
	}
	args = append(args, f.Limit)
	rows, err := db.QueryContext(ctx, `SELECT `+meetingColumns+` FROM conf_meetings WHERE `+
		strings.Join(where, " AND ")+` ORDER BY starts_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list meetings: %w", err)
	}
	defer rows.Close()
	var out []*Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("list meetings: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list meetings: %w", err)
	}
	for _, m := range out {
		if m.Hosts, err = hostsOf(ctx, db, m.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func setMeetingLocked(ctx context.Context, db *sqlite.DB, id int64, locked bool) error {
	if _, err := db.ExecContext(ctx, `UPDATE conf_meetings SET locked = ? WHERE id = ?`, locked, id); err != nil {
		return fmt.Errorf("lock meeting: %w", err)
	}
	return nil
}

// setMeetingEnded records the end (at != zero) or a reopening (zero) of a meeting.
func setMeetingEnded(ctx context.Context, db *sqlite.DB, id int64, at time.Time) error {
	var v int64
	if !at.IsZero() {
		v = at.Unix()
	}
	if _, err := db.ExecContext(ctx, `UPDATE conf_meetings SET ended_at = ? WHERE id = ?`, v, id); err != nil {
		return fmt.Errorf("end meeting: %w", err)
	}
	return nil
}

// setHost adds or removes a user as host of a meeting.
func setHost(ctx context.Context, db *sqlite.DB, meetingID, userID int64, host bool) error {
	q := `DELETE FROM conf_hosts WHERE meeting_id = ? AND user_id = ?`
	if host {
		q = `INSERT OR IGNORE INTO conf_hosts (meeting_id, user_id) VALUES (?, ?)`
	}
	if _, err := db.ExecContext(ctx, q, meetingID, userID); err != nil {
		return fmt.Errorf("set host: %w", err)
	}
	return nil
}
