package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
)

// Purged counts what Purge removed.
type Purged struct {
	LogLines int64 `json:"log_lines"`
	Mails    int64 `json:"mails"`
}

// Purge applies the retention (Config.LogRetention, 21 days by default): it deletes older ingest
// log lines, and older automatic, duplicate and discarded mail, which no ticket needs. Mail that
// became tickets stays with its ticket. cmd/rocca calls it periodically.
func (s *Service) Purge(ctx context.Context) (Purged, error) {
	cutoff := unix(s.now().Add(-s.cfg.LogRetention))
	var p Purged
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM helpdesk_ingest_log WHERE at < ?`, cutoff)
		if err != nil {
			return fmt.Errorf("purge ingest log: %w", err)
		}
		p.LogLines, _ = res.RowsAffected()
		res, err = tx.ExecContext(ctx, `DELETE FROM helpdesk_mails WHERE received_at < ?
			AND outcome IN ('ignored', 'duplicate', 'discarded')
			AND id NOT IN (SELECT mail_id FROM helpdesk_messages WHERE mail_id IS NOT NULL)`, cutoff)
		if err != nil {
			return fmt.Errorf("purge mail: %w", err)
		}
		p.Mails, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return Purged{}, err
	}
	if p.LogLines+p.Mails > 0 {
		s.logger.Info("helpdesk retention applied", "log_lines", p.LogLines, "mails", p.Mails)
	}
	return p, nil
}
