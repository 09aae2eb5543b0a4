package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rocca-pa/rocca/helpdesk/mailin"
)

// MailboxRef names the mailbox message being ingested (mailbox, UIDVALIDITY, UID). A zero UID
// means the mail did not come from a mailbox (tests, tools): no position is kept for it.
type MailboxRef = mailin.Ref

// Position returns how far the mailbox is stored; it is part of mailin.Sink.
func (s *Service) Position(ctx context.Context, mailbox string) (mailin.Position, error) {
	return positionOf(ctx, s.db, mailbox)
}

func positionOf(ctx context.Context, q queryer, mailbox string) (mailin.Position, error) {
	var p mailin.Position
	err := q.QueryRowContext(ctx, `SELECT uid_validity, last_uid FROM helpdesk_mailboxes WHERE mailbox = ?`, mailbox).
		Scan(&p.UIDValidity, &p.LastUID)
	if err == sql.ErrNoRows {
		return mailin.Position{}, nil
	}
	if err != nil {
		return p, fmt.Errorf("mailbox position: %w", err)
	}
	return p, nil
}

// covered reports whether the mailbox position already includes ref: the same mail handed over
// again after a crash between the commit and the move.
func covered(p mailin.Position, ref MailboxRef) bool {
	return ref.UID != 0 && p.UIDValidity == ref.UIDValidity && ref.UID <= p.LastUID
}

// advance moves the position of ref's mailbox to ref (a new UIDVALIDITY starts over from ref).
func advance(ctx context.Context, q queryer, ref MailboxRef, now time.Time) error {
	if ref.UID == 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `INSERT INTO helpdesk_mailboxes (mailbox, uid_validity, last_uid, updated_at)
		VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (mailbox) DO UPDATE SET
			last_uid = CASE WHEN uid_validity = ?2 THEN max(last_uid, ?3) ELSE ?3 END,
			uid_validity = ?2, updated_at = ?4`,
		ref.Mailbox, ref.UIDValidity, ref.UID, unix(now))
	if err != nil {
		return fmt.Errorf("advance mailbox position: %w", err)
	}
	return nil
}
