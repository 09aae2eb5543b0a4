package conferencing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rocca-pa/rocca"
)

const participantColumns = `id, public_id, meeting_id, coalesce(user_id, 0), name, role, state, created_at`

func scanParticipant(row interface{ Scan(...any) error }) (*Participant, error) {
	var p Participant
	var created int64
	if err := row.Scan(&p.ID, &p.PublicID, &p.MeetingID, &p.UserID, &p.Name, &p.Role, &p.State, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = time.Unix(created, 0)
	return &p, nil
}

func insertParticipant(ctx context.Context, q querier, p *Participant) error {
	var userID any
	if p.UserID > 0 {
		userID = p.UserID
	}
	now := p.CreatedAt.Unix()
	res, err := q.ExecContext(ctx, `INSERT INTO conf_participants
		(public_id, meeting_id, user_id, name, role, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.PublicID, p.MeetingID, userID, p.Name, p.Role, p.State, now, now)
	if err != nil {
		return fmt.Errorf("insert participant: %w", err)
	}
	p.ID, err = res.LastInsertId()
	return err
}

// participantByPublicID returns the participant with this id in meeting meetingID.
func participantByPublicID(ctx context.Context, q querier, meetingID int64, publicID string) (*Participant, error) {
	p, err := scanParticipant(q.QueryRowContext(ctx, `SELECT `+participantColumns+` FROM conf_participants
		WHERE public_id = ? AND meeting_id = ?`, publicID, meetingID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rocca.Localized(rocca.EUNAUTHORIZED, "conf.error.token_invalid", "participant unknown")
	}
	if err != nil {
		return nil, fmt.Errorf("participant: %w", err)
	}
	return p, nil
}

// participantForUser returns the user's place in the meeting, or nil.
func participantForUser(ctx context.Context, q querier, meetingID, userID int64) (*Participant, error) {
	p, err := scanParticipant(q.QueryRowContext(ctx, `SELECT `+participantColumns+` FROM conf_participants
		WHERE meeting_id = ? AND user_id = ? ORDER BY id DESC LIMIT 1`, meetingID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("participant: %w", err)
	}
	return p, nil
}

func countParticipants(ctx context.Context, q querier, meetingID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM conf_participants WHERE meeting_id = ?`, meetingID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count participants: %w", err)
	}
	return n, nil
}

func setParticipantState(ctx context.Context, q querier, id int64, state string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE conf_participants SET state = ?, updated_at = ? WHERE id = ?`, state, now.Unix(), id)
	if err != nil {
		return fmt.Errorf("participant state: %w", err)
	}
	return nil
}

func setParticipantRole(ctx context.Context, q querier, id int64, role Role, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE conf_participants SET role = ?, updated_at = ? WHERE id = ?`, role, now.Unix(), id)
	if err != nil {
		return fmt.Errorf("participant role: %w", err)
	}
	return nil
}
