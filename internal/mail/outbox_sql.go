package mail

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
)

// timeLayout stores times as fixed-width UTC text that sorts like the times themselves.
const timeLayout = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// maxErrorText bounds last_error: relays can answer with long multi-line texts.
const maxErrorText = 2000

func insertQueued(ctx context.Context, tx *sql.Tx, m *queued) (int64, error) {
	to, err := json.Marshal(m.to)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox
		(created_at, envelope_from, recipients, raw, message_id, subject, state, attempts, next_attempt_at, give_up_at)
		VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)`,
		fmtTime(m.createdAt), m.from, string(to), m.raw, m.messageID, m.subject,
		fmtTime(m.nextAttemptAt), fmtTime(m.giveUpAt))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// claimDue marks the next due message "sending" (committed: it is a single statement) and returns
// it, or sql.ErrNoRows when nothing is due.
func (o *Outbox) claimDue(ctx context.Context, now time.Time) (*queued, error) {
	row := o.db.QueryRowContext(ctx, `UPDATE mail_outbox SET state = 'sending', attempts = attempts + 1
		WHERE id = (SELECT id FROM mail_outbox WHERE state = 'queued' AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT 1)
		RETURNING id, envelope_from, recipients, raw, message_id, attempts, give_up_at`, fmtTime(now))
	var m queued
	var to, giveUp string
	if err := row.Scan(&m.id, &m.from, &to, &m.raw, &m.messageID, &m.attempts, &giveUp); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(to), &m.to); err != nil {
		return nil, fmt.Errorf("outbox message %d: recipients: %w", m.id, err)
	}
	var err error
	if m.giveUpAt, err = parseTime(giveUp); err != nil {
		return nil, fmt.Errorf("outbox message %d: give_up_at: %w", m.id, err)
	}
	return &m, nil
}

// markSent records the relay's acceptance; note is non-empty when some recipients were refused.
func (o *Outbox) markSent(ctx context.Context, id int64, now time.Time, note string) error {
	_, err := o.db.ExecContext(ctx, `UPDATE mail_outbox SET state = 'sent', sent_at = ?, last_error = ?
		WHERE id = ?`, fmtTime(now), clip(note), id)
	return err
}

func (o *Outbox) markFailed(ctx context.Context, id int64, reason string) error {
	_, err := o.db.ExecContext(ctx, `UPDATE mail_outbox SET state = 'failed', last_error = ? WHERE id = ?`,
		clip(reason), id)
	return err
}

func (o *Outbox) markRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	_, err := o.db.ExecContext(ctx, `UPDATE mail_outbox SET state = 'queued', next_attempt_at = ?, last_error = ?
		WHERE id = ?`, fmtTime(next), clip(reason), id)
	return err
}

// requeueAtStart makes every unsent message due now: those left "sending" by a crash (resent with
// the same Message-ID, see the package doc) and those waiting for a retry (the operator may have
// restarted after fixing the relay). It returns the ids found in "sending".
func (o *Outbox) requeueAtStart(ctx context.Context, now time.Time) ([]int64, error) {
	var interrupted []int64
	err := o.db.WithTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM mail_outbox WHERE state = 'sending' ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			interrupted = append(interrupted, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'queued', next_attempt_at = ?
			WHERE state IN ('sending', 'queued')`, fmtTime(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("requeue outbox: %w", err)
	}
	return interrupted, nil
}

// nextDue returns the earliest next attempt among queued messages, and false when none is queued.
func (o *Outbox) nextDue(ctx context.Context) (time.Time, bool, error) {
	var s sql.NullString
	if err := o.db.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM mail_outbox WHERE state = 'queued'`).Scan(&s); err != nil {
		return time.Time{}, false, fmt.Errorf("outbox next due: %w", err)
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("outbox next due: %w", err)
	}
	return t, true, nil
}

// Item is an outbox message as the admin page shows it (without its body).
type Item struct {
	ID            int64
	CreatedAt     time.Time
	From          string // envelope sender; "" is the null sender
	To            []string
	Subject       string
	MessageID     string
	State         string
	Attempts      int
	NextAttemptAt time.Time
	GiveUpAt      time.Time
	LastError     string
	SentAt        time.Time // zero until sent
}

// Items lists messages, newest first; state "" lists every state. limit <= 0 means 100.
func (o *Outbox) Items(ctx context.Context, state string, limit int) ([]Item, error) {
	if state != "" && !slices.Contains(States(), state) {
		return nil, rocca.Localized(rocca.EINVALID, "mail.error.bad_state", "unknown outbox state "+state, state)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := o.db.QueryContext(ctx, `SELECT id, created_at, envelope_from, recipients, subject, message_id,
			state, attempts, next_attempt_at, give_up_at, last_error, sent_at
		FROM mail_outbox WHERE ? = '' OR state = ? ORDER BY id DESC LIMIT ?`, state, state, limit)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	var items []Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("list outbox: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return items, nil
}

func scanItem(rows *sql.Rows) (Item, error) {
	var it Item
	var to, created, next, giveUp string
	var sent sql.NullString
	if err := rows.Scan(&it.ID, &created, &it.From, &to, &it.Subject, &it.MessageID, &it.State,
		&it.Attempts, &next, &giveUp, &it.LastError, &sent); err != nil {
		return it, err
	}
	if err := json.Unmarshal([]byte(to), &it.To); err != nil {
		return it, fmt.Errorf("message %d recipients: %w", it.ID, err)
	}
	var errs []error
	var err error
	it.CreatedAt, err = parseTime(created)
	errs = append(errs, err)
	it.NextAttemptAt, err = parseTime(next)
	errs = append(errs, err)
	it.GiveUpAt, err = parseTime(giveUp)
	errs = append(errs, err)
	if sent.Valid {
		it.SentAt, err = parseTime(sent.String)
		errs = append(errs, err)
	}
	return it, errors.Join(errs...)
}

// Retry puts a failed or waiting message back in the queue for an attempt now and wakes the worker.
// It starts afresh: attempts from zero (so backoff from a minute) and a new GiveUpAfter period.
// Sent messages are not sent again.
func (o *Outbox) Retry(ctx context.Context, id int64) error {
	now := o.now()
	res, err := o.db.ExecContext(ctx, `UPDATE mail_outbox
		SET state = 'queued', attempts = 0, next_attempt_at = ?, give_up_at = ?
		WHERE id = ? AND state IN ('failed', 'queued')`, fmtTime(now), fmtTime(now.Add(GiveUpAfter)), id)
	if err != nil {
		return fmt.Errorf("retry mail %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("retry mail %d: %w", id, err)
	} else if n == 0 {
		var state string
		err := o.db.QueryRowContext(ctx, `SELECT state FROM mail_outbox WHERE id = ?`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return rocca.Localized(rocca.ENOTFOUND, "mail.error.not_found", fmt.Sprintf("message %d is not in the outbox", id), strconv.FormatInt(id, 10))
		}
		if err != nil {
			return fmt.Errorf("retry mail %d: %w", id, err)
		}
		return rocca.Localized(rocca.ECONFLICT, "mail.error.not_retryable",
			fmt.Sprintf("message %d is %s and cannot be retried", id, state), id)
	}
	attrs := []any{"id", id}
	if u := rocca.UserFromContext(ctx); u != nil {
		attrs = append(attrs, "by", u.Email)
	}
	o.logger.Info("mail retry requested", attrs...)
	o.Wake()
	return nil
}

// Stats counts messages by state; every state is present, with 0 when empty.
func (o *Outbox) Stats(ctx context.Context) (map[string]int, error) {
	stats := map[string]int{}
	for _, s := range States() {
		stats[s] = 0
	}
	rows, err := o.db.QueryContext(ctx, `SELECT state, count(*) FROM mail_outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("outbox stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("outbox stats: %w", err)
		}
		stats[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox stats: %w", err)
	}
	return stats, nil
}

// PurgeSent deletes the messages sent before before, which only take space once the relay has them
// (the helpdesk keeps its own copy of replies). Unsent and failed messages are never deleted.
func (o *Outbox) PurgeSent(ctx context.Context, before time.Time) (int64, error) {
	res, err := o.db.ExecContext(ctx, `DELETE FROM mail_outbox WHERE state = 'sent' AND sent_at < ?`, fmtTime(before))
	if err != nil {
		return 0, fmt.Errorf("purge sent mail: %w", err)
	}
	return res.RowsAffected()
}

func clip(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorText], "") + "…"
}
