package helpdesk

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Outcomes of an ingested mail (helpdesk_mails.outcome and the ingest log).
const (
	OutcomeTicket     = "ticket"     // opened a new ticket
	OutcomeReply      = "reply"      // joined an existing ticket
	OutcomeIgnored    = "ignored"    // automatic mail: stored, no ticket, never answered
	OutcomeDuplicate  = "duplicate"  // a copy of a mail already stored
	OutcomeQuarantine = "quarantine" // could not be read; waits for an admin
	OutcomeHeld       = "held"       // from a sender not allowed to open tickets; waits for an admin
	OutcomeReleased   = "released"   // an admin turned a quarantined or held mail into a ticket
	OutcomeDiscarded  = "discarded"  // an admin discarded a quarantined or held mail
)

// mailRow is one row of helpdesk_mails.
type mailRow struct {
	ID          int64
	Key         string
	ReceivedAt  time.Time
	Ref         MailboxRef
	From        string
	Subject     string
	Size        int64
	Raw         []byte
	Truncated   bool
	Outcome     string
	Reason      string
	ReasonArgs  []any
	Detail      string
	Ticket      int64
	PECKind     string
	HasRaw      bool
	ReasonArgsJ string
}

func insertMail(ctx context.Context, q queryer, m *mailRow) error {
	args, _ := json.Marshal(nonNilAny(m.ReasonArgs))
	res, err := q.ExecContext(ctx, `INSERT INTO helpdesk_mails (dedupe_key, received_at, mailbox, uid_validity,
		uid, from_addr, subject, size, raw, raw_truncated, outcome, reason, reason_args, detail, ticket_id, pec_kind)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Key, unix(m.ReceivedAt), m.Ref.Mailbox, m.Ref.UIDValidity, m.Ref.UID, m.From, m.Subject, m.Size,
		m.Raw, m.Truncated, m.Outcome, m.Reason, string(args), m.Detail, nullID(m.Ticket), m.PECKind)
	if err != nil {
		return fmt.Errorf("store mail: %w", err)
	}
	m.ID, err = res.LastInsertId()
	return err
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

func mailKeyExists(ctx context.Context, q queryer, key string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM helpdesk_mails WHERE dedupe_key = ?`, key).Scan(&n); err != nil {
		return false, fmt.Errorf("find mail: %w", err)
	}
	return n > 0, nil
}

const mailColumns = `id, dedupe_key, received_at, mailbox, uid_validity, uid, from_addr, subject, size,
	raw IS NOT NULL, raw_truncated, outcome, reason, reason_args, detail, ticket_id, pec_kind`

func scanMail(row interface{ Scan(...any) error }) (*mailRow, error) {
	var m mailRow
	var received int64
	var ticket sql.NullInt64
	err := row.Scan(&m.ID, &m.Key, &received, &m.Ref.Mailbox, &m.Ref.UIDValidity, &m.Ref.UID, &m.From,
		&m.Subject, &m.Size, &m.HasRaw, &m.Truncated, &m.Outcome, &m.Reason, &m.ReasonArgsJ, &m.Detail,
		&ticket, &m.PECKind)
	if err != nil {
		return nil, err
	}
	m.ReceivedAt, m.Ticket = fromUnix(received), ticket.Int64
	json.Unmarshal([]byte(m.ReasonArgsJ), &m.ReasonArgs)
	for i, a := range m.ReasonArgs {
		// JSON numbers come back as float64; the catalog's %d wants integers.
		if f, ok := a.(float64); ok && f == float64(int64(f)) {
			m.ReasonArgs[i] = int64(f)
		}
	}
	return &m, nil
}

func mailByID(ctx context.Context, q queryer, id int64) (*mailRow, error) {
	m, err := scanMail(q.QueryRowContext(ctx, `SELECT `+mailColumns+` FROM helpdesk_mails WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, errNoMail(id)
	}
	if err != nil {
		return nil, fmt.Errorf("mail %d: %w", id, err)
	}
	return m, nil
}

func mailRaw(ctx context.Context, q queryer, id int64) ([]byte, error) {
	var raw []byte
	err := q.QueryRowContext(ctx, `SELECT raw FROM helpdesk_mails WHERE id = ?`, id).Scan(&raw)
	if err == sql.ErrNoRows {
		return nil, errNoMail(id)
	}
	if err != nil {
		return nil, fmt.Errorf("mail %d: %w", id, err)
	}
	return raw, nil
}

// logIngest records what happened to one handed-over mail.
func logIngest(ctx context.Context, q queryer, at time.Time, ref MailboxRef, messageID, from, outcome, reason string, ticket int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO helpdesk_ingest_log (at, mailbox, uid_validity, uid, message_id,
		from_addr, outcome, reason, ticket_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		unix(at), ref.Mailbox, ref.UIDValidity, ref.UID, messageID, from, outcome, reason, nullID(ticket))
	if err != nil {
		return fmt.Errorf("ingest log: %w", err)
	}
	return nil
}
