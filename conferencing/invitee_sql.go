package conferencing

import (
	"context"
	"database/sql"
	"fmt"
)

func insertInvitee(ctx context.Context, tx *sql.Tx, meetingID int64, i *Invitee) error {
	var userID any
	if i.UserID > 0 {
		userID = i.UserID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO conf_invitees (meeting_id, email, name, user_id, outbox_id)
		VALUES (?, ?, ?, ?, ?)`, meetingID, i.Email, i.Name, userID, i.OutboxID)
	if err != nil {
		return fmt.Errorf("insert invitee: %w", err)
	}
	return nil
}

func inviteesOf(ctx context.Context, q querier, meetingID int64) ([]Invitee, error) {
	rows, err := q.QueryContext(ctx, `SELECT email, name, coalesce(user_id, 0), outbox_id FROM conf_invitees
		WHERE meeting_id = ? ORDER BY id`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("invitees: %w", err)
	}
	defer rows.Close()
	var out []Invitee
	for rows.Next() {
		var i Invitee
		if err := rows.Scan(&i.Email, &i.Name, &i.UserID, &i.OutboxID); err != nil {
			return nil, fmt.Errorf("invitees: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}
