package conferencing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// streamIDOf returns the public stream id of meeting id, or "" when it has none yet.
func streamIDOf(ctx context.Context, q querier, meetingID int64) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT stream_id FROM conf_public_streams WHERE meeting_id = ?`, meetingID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("public stream: %w", err)
	}
	return id, nil
}

// insertStream gives meeting id the stream id streamID; a meeting that got one meanwhile keeps
// its own (the caller reads it again).
func insertStream(ctx context.Context, q querier, meetingID int64, streamID string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO conf_public_streams (meeting_id, stream_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (meeting_id) DO NOTHING`, meetingID, streamID, now.Unix())
	if err != nil && !sqlite.IsUniqueViolation(err) {
		return fmt.Errorf("insert public stream: %w", err)
	}
	return nil
}

// meetingByStream returns the meeting whose public stream is streamID.
func meetingByStream(ctx context.Context, q querier, streamID string) (*Meeting, error) {
	var publicID string
	err := q.QueryRowContext(ctx, `SELECT m.public_id FROM conf_public_streams s
		JOIN conf_meetings m ON m.id = s.meeting_id WHERE s.stream_id = ?`, streamID).Scan(&publicID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errStreamNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("public stream: %w", err)
	}
	return meetingByPublicID(ctx, q, publicID)
}

func errStreamNotFound() error {
	return rocca.Localized(rocca.ENOTFOUND, "conf.error.public_not_found", "public stream not found")
}
