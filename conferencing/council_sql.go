package conferencing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// councilOf reads the council setup of meeting m, or nil when it has none.
func councilOf(ctx context.Context, q querier, m *Meeting) (*Council, error) {
	c := &Council{Meeting: m.PublicID}
	var chair, secretary sql.NullInt64
	var opened, closed int64
	err := q.QueryRowContext(ctx, `SELECT quorum_kind, quorum_n, public, recording_closed, chair_user, secretary_user,
		state, record_file, opened_at, closed_at FROM conf_council WHERE meeting_id = ?`, m.ID).Scan(
		&c.Quorum.Kind, &c.Quorum.N, &c.Public, &c.RecordClosed, &chair, &secretary, &c.State, &c.RecordFile, &opened, &closed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("council: %w", err)
	}
	c.Chair, c.Secretary = chair.Int64, secretary.Int64
	if opened != 0 {
		c.OpenedAt = time.Unix(opened, 0)
	}
	if closed != 0 {
		c.ClosedAt = time.Unix(closed, 0)
	}
	if c.Seats, err = councilSeats(ctx, q, m.ID); err != nil {
		return nil, err
	}
	if c.Agenda, err = councilItems(ctx, q, m.ID); err != nil {
		return nil, err
	}
	return c, nil
}

func councilSeats(ctx context.Context, q querier, meetingID int64) ([]Seat, error) {
	rows, err := q.QueryContext(ctx, `SELECT seat, user_id, name, counts_for_quorum FROM conf_council_seats
		WHERE meeting_id = ? ORDER BY seat`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("council seats: %w", err)
	}
	defer rows.Close()
	seats := []Seat{}
	for rows.Next() {
		var st Seat
		if err := rows.Scan(&st.Seat, &st.UserID, &st.Name, &st.CountsForQuorum); err != nil {
			return nil, fmt.Errorf("council seats: %w", err)
		}
		seats = append(seats, st)
	}
	return seats, rows.Err()
}

func councilItems(ctx context.Context, q querier, meetingID int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT title FROM conf_council_items WHERE meeting_id = ? ORDER BY n`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("council agenda: %w", err)
	}
	defer rows.Close()
	items := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("council agenda: %w", err)
		}
		items = append(items, t)
	}
	return items, rows.Err()
}

// saveCouncil writes a (validated) setup, replacing the seats and the agenda.
func saveCouncil(ctx context.Context, tx *sql.Tx, meetingID int64, c *CouncilSetup) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO conf_council
		(meeting_id, quorum_kind, quorum_n, public, recording_closed, chair_user, secretary_user) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (meeting_id) DO UPDATE SET quorum_kind = excluded.quorum_kind, quorum_n = excluded.quorum_n,
		public = excluded.public, recording_closed = excluded.recording_closed, chair_user = excluded.chair_user,
		secretary_user = excluded.secretary_user`,
		meetingID, c.Quorum.Kind, c.Quorum.N, c.Public, c.RecordClosed, c.Chair, c.Secretary)
	if err != nil {
		return fmt.Errorf("save council: %w", err)
	}
	for _, q := range []string{`DELETE FROM conf_council_seats WHERE meeting_id = ?`, `DELETE FROM conf_council_items WHERE meeting_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, meetingID); err != nil {
			return fmt.Errorf("save council: %w", err)
		}
	}
	for _, st := range c.Seats {
		if _, err := tx.ExecContext(ctx, `INSERT INTO conf_council_seats (meeting_id, seat, user_id, name, counts_for_quorum)
			VALUES (?, ?, ?, ?, ?)`, meetingID, st.Seat, st.UserID, st.Name, st.CountsForQuorum); err != nil {
			return fmt.Errorf("save council seat %d: %w", st.Seat, err)
		}
	}
	for i, t := range c.Agenda {
		if _, err := tx.ExecContext(ctx, `INSERT INTO conf_council_items (meeting_id, n, title) VALUES (?, ?, ?)`,
			meetingID, i+1, t); err != nil {
			return fmt.Errorf("save council agenda: %w", err)
		}
	}
	return nil
}

// setCouncilState records the session opening (state open) or closing (state closed) and its
// record file.
func setCouncilState(ctx context.Context, q querier, meetingID int64, state, file string, at time.Time) error {
	col := "opened_at"
	if state == CouncilClosed {
		col = "closed_at"
	}
	_, err := q.ExecContext(ctx, `UPDATE conf_council SET state = ?, record_file = ?, `+col+` = ? WHERE meeting_id = ?`,
		state, file, at.Unix(), meetingID)
	if err != nil {
		return fmt.Errorf("council %s: %w", state, err)
	}
	return nil
}

// insertCouncilVote stores the totals of a closed vote: nothing about who chose what.
func insertCouncilVote(ctx context.Context, q querier, meetingID int64, v CouncilVote) error {
	_, err := q.ExecContext(ctx, `INSERT INTO conf_council_votes
		(meeting_id, n, item, secret, eligible, favorevole, contrario, astenuto, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		meetingID, v.N, v.Item, v.Secret, v.Eligible, v.Totals.Favorevole, v.Totals.Contrario, v.Totals.Astenuto, v.ClosedAt.Unix())
	if err != nil {
		return fmt.Errorf("store vote totals: %w", err)
	}
	return nil
}

func councilVotes(ctx context.Context, q querier, meetingID int64) ([]CouncilVote, error) {
	rows, err := q.QueryContext(ctx, `SELECT n, item, secret, eligible, favorevole, contrario, astenuto, closed_at
		FROM conf_council_votes WHERE meeting_id = ? ORDER BY id`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("council votes: %w", err)
	}
	defer rows.Close()
	out := []CouncilVote{}
	for rows.Next() {
		var v CouncilVote
		var at int64
		if err := rows.Scan(&v.N, &v.Item, &v.Secret, &v.Eligible, &v.Totals.Favorevole, &v.Totals.Contrario,
			&v.Totals.Astenuto, &at); err != nil {
			return nil, fmt.Errorf("council votes: %w", err)
		}
		v.ClosedAt = time.Unix(at, 0)
		out = append(out, v)
	}
	return out, rows.Err()
}
