package helpdesk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// Deliver stores one mail handed over by the mailbox; it is part of mailin.Sink (see Ingest).
func (s *Service) Deliver(ctx context.Context, raw []byte, ref mailin.Ref) error {
	return s.Ingest(ctx, raw, ref)
}

// Ingest stores one raw mail from the mailbox position ref, and whatever it becomes (a ticket, a
// message of a ticket, an ignored automatic mail, a quarantined or held mail), the ingest log line,
// the mail we send because of it (acknowledgement, notifications) and the new mailbox position, in
// ONE transaction. It returns after the commit, so the caller may then move the message on the
// server; a crash before the commit stores nothing, and the message is handed over again.
//
// It is idempotent: a ref the mailbox position already covers, or a mail whose Message-ID (for a
// PEC envelope: the envelope's; without one: a hash of the header) is stored already, changes
// nothing but the position. A mail it cannot parse is quarantined, never an error; errors mean
// nothing was stored (the database or the attachment directory failed) and the caller retries.
func (s *Service) Ingest(ctx context.Context, raw []byte, ref MailboxRef) error {
	pos, err := positionOf(ctx, s.db, ref.Mailbox)
	if err != nil {
		return err
	}
	if covered(pos, ref) {
		return nil
	}
	in, err := s.prepare(ctx, raw)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	var res routed
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		pos, err := positionOf(ctx, tx, ref.Mailbox)
		if err != nil {
			return err
		}
		if covered(pos, ref) {
			res = routed{outcome: OutcomeDuplicate}
			return nil
		}
		if res, err = s.route(ctx, tx, in, ref); err != nil {
			return err
		}
		if err := logIngest(ctx, tx, s.now(), ref, in.msg.MessageID, in.msg.From.Address, res.outcome, res.reason, res.ticket); err != nil {
			return err
		}
		return advance(ctx, tx, ref, s.now())
	})
	if err != nil && ctx.Err() == nil && (sqlite.IsUniqueViolation(err) || skippable(err)) {
		// A bug or an input nobody foresaw, not an outage: retrying would fail the same way and
		// block the mailbox, so the mail goes to the quarantine instead.
		s.logger.Error("mail could not be stored as routed: quarantined", "uid", ref.UID, "err", err)
		res, err = s.quarantineUnexpected(ctx, in, ref, err)
	}
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if res.mailed {
		s.mailer.Wake()
	}
	s.logger.Info("mail ingested", "mailbox", ref.Mailbox, "uid", ref.UID, "outcome", res.outcome,
		"reason", res.reason, "ticket", res.ticket)
	return nil
}

// quarantineUnexpected stores a mail whose routing failed in the quarantine, with the error.
func (s *Service) quarantineUnexpected(ctx context.Context, in *inbound, ref MailboxRef, cause error) (routed, error) {
	res := routed{outcome: OutcomeQuarantine, reason: reasonUnknown}
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		pos, err := positionOf(ctx, tx, ref.Mailbox)
		if err != nil || covered(pos, ref) {
			return err
		}
		if exists, err := mailKeyExists(ctx, tx, in.key); err != nil {
			return err
		} else if !exists {
			row := s.newMailRow(in, ref)
			row.Outcome, row.Reason, row.Detail = OutcomeQuarantine, reasonUnknown, cause.Error()
			if err := insertMail(ctx, tx, row); err != nil {
				return err
			}
		}
		if err := logIngest(ctx, tx, s.now(), ref, in.msg.MessageID, in.msg.From.Address, res.outcome, res.reason, 0); err != nil {
			return err
		}
		return advance(ctx, tx, ref, s.now())
	})
	return res, err
}

// inbound is a parsed mail with what the helpdesk learnt about it outside the transaction.
type inbound struct {
	raw      []byte
	msg      *mailin.Message // never nil: a best-effort message when perr is set
	perr     error           // why the mail cannot be read
	key      string          // dedupe key
	user     *rocca.User     // the sender's account (enabled), nil when none
	allowed  bool            // the sender may open tickets
	external bool            // the sender is neither a user nor in an allowed domain
	files    []Attachment    // the attachments, stored
}

// prepare parses the mail, identifies the sender and stores the attachment files: all the slow
// work, done before the write transaction starts.
func (s *Service) prepare(ctx context.Context, raw []byte) (*inbound, error) {
	m, perr := s.parse(raw)
	if m == nil {
		m = &mailin.Message{}
	}
	in := &inbound{raw: raw, msg: m, perr: perr, key: dedupeKey(m, raw)}
	if m.MessageID == "" {
		m.MessageID = in.key
	}
	if perr != nil || m.Auto.Auto {
		return in, nil
	}
	var err error
	if in.user, in.allowed, in.external, err = s.identify(ctx, m.From.Address); err != nil {
		return nil, err
	}
	if in.files, err = s.storeMailFiles(m.Attachments); err != nil {
		return nil, err
	}
	return in, nil
}

// parse runs mailin.Parse; a panic in the parser (a bug) quarantines the mail instead of taking the
// server down, and the next mail goes on.
func (s *Service) parse(raw []byte) (m *mailin.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("mail parser panicked: mail quarantined", "panic", fmt.Sprint(r))
			m, err = nil, fmt.Errorf("parser panic: %v", r)
		}
	}()
	return mailin.Parse(raw, s.parseOptions())
}

// dedupeKey is the identity of a mail as delivered: its Message-ID (the envelope's, for PEC), or
// the SHA-256 of the raw bytes when even the parser could not read one.
func dedupeKey(m *mailin.Message, raw []byte) string {
	if m.PEC.Envelope && m.PEC.EnvelopeMessageID != "" {
		return m.PEC.EnvelopeMessageID
	}
	if m.MessageID != "" {
		return m.MessageID
	}
	sum := sha256.Sum256(raw)
	return "sha256." + hex.EncodeToString(sum[:]) + fakeIDSuffix
}

// storeMailFiles writes the kept attachments to the file store.
func (s *Service) storeMailFiles(list []mailin.Attachment) ([]Attachment, error) {
	out := make([]Attachment, 0, len(list))
	for _, a := range list {
		f := Attachment{Filename: a.Filename, ContentType: a.ContentType, ContentID: a.ContentID,
			Inline: a.Inline, Size: a.Size, Dropped: a.Dropped}
		if !a.Dropped {
			sum, err := s.files.put(a.Data)
			if err != nil {
				return nil, err
			}
			f.SHA256 = sum
		}
		out = append(out, f)
	}
	return out, nil
}

// identify decides who the sender is: a user (by the account's e-mail), someone from an allowed
// domain, or an external sender, allowed or held by policy. Only From counts; Reply-To never does.
func (s *Service) identify(ctx context.Context, addr string) (u *rocca.User, allowed, external bool, err error) {
	if addr != "" {
		u, err = s.users.UserByEmail(ctx, addr)
		switch {
		case err == nil && !u.Disabled:
			return u, true, false, nil
		case err != nil && rocca.ErrorCodeOf(err) != rocca.ENOTFOUND:
			return nil, false, false, fmt.Errorf("identify sender: %w", err)
		}
	}
	if len(s.cfg.AllowedDomains) == 0 {
		return nil, true, false, nil
	}
	d := domainOf(addr)
	for _, ok := range s.cfg.AllowedDomains {
		if d != "" && d == ok {
			return nil, true, false, nil
		}
	}
	return nil, s.cfg.ExternalSenders == ExternalAllow, true, nil
}

// routed is what became of a mail.
type routed struct {
	outcome string
	reason  string
	ticket  int64
	mailed  bool // mail was queued in the outbox
}

// route decides what the mail becomes and stores it, inside the ingest transaction.
func (s *Service) route(ctx context.Context, tx *sql.Tx, in *inbound, ref MailboxRef) (routed, error) {
	m := in.msg
	if exists, err := mailKeyExists(ctx, tx, in.key); err != nil || exists {
		return routed{outcome: OutcomeDuplicate}, err
	}
	row := s.newMailRow(in, ref)
	switch {
	case in.perr != nil:
		row.Outcome = OutcomeQuarantine
		row.Reason, row.ReasonArgs = quarantineReason(in.perr)
		row.Detail = in.perr.Error()
		return routed{outcome: row.Outcome, reason: row.Reason}, insertMail(ctx, tx, row)
	case m.Auto.Auto:
		row.Outcome, row.Reason = OutcomeIgnored, m.Auto.Reason
		t, err := s.autoLink(ctx, tx, m)
		if err != nil {
			return routed{}, err
		}
		row.Ticket = t
		return routed{outcome: row.Outcome, reason: row.Reason, ticket: t}, insertMail(ctx, tx, row)
	}
	// The same message under another envelope (sent both directly and by PEC, say) is a copy.
	if m.MessageID != "" {
		if t, err := ticketOfMessageID(ctx, tx, m.MessageID); err != nil {
			return routed{}, err
		} else if t > 0 {
			row.Outcome, row.Ticket = OutcomeDuplicate, t
			return routed{outcome: OutcomeDuplicate, ticket: t}, insertMail(ctx, tx, row)
		}
	}
	t, err := s.findTicket(ctx, tx, m)
	if err != nil {
		return routed{}, err
	}
	if t != nil && !(t.Status == StatusClosed && s.cfg.ClosedReply == ClosedNew) {
		return s.addInbound(ctx, tx, in, row, t)
	}
	if !in.allowed {
		row.Outcome, row.Reason = OutcomeHeld, reasonExternal
		return routed{outcome: row.Outcome, reason: row.Reason}, insertMail(ctx, tx, row)
	}
	var linked int64
	if t != nil {
		linked = t.Number
	}
	return s.openFromMail(ctx, tx, in, row, linked, true)
}

// Quarantine reasons of the helpdesk's own (the parser's are mailin.Key*).
const (
	reasonExternal = "helpdesk.quarantine.external"
	reasonUnknown  = "helpdesk.quarantine.unknown"
)

func quarantineReason(err error) (string, []any) {
	var tl *mailin.TooLargeError
	if errors.As(err, &tl) {
		return tl.Key(), tl.Args()
	}
	var pe *mailin.ParseError
	if errors.As(err, &pe) && pe.Key != "" {
		return pe.Key, nil
	}
	return reasonUnknown, nil
}

// maxKeptHeader bounds the part of an oversized mail that is kept as evidence.
const maxKeptHeader = 256 << 10

func (s *Service) newMailRow(in *inbound, ref MailboxRef) *mailRow {
	m := in.msg
	row := &mailRow{
		Key: in.key, ReceivedAt: s.now(), Ref: ref, From: m.From.Address, Subject: m.Subject,
		Size: int64(len(in.raw)), Raw: in.raw, PECKind: m.PEC.Kind,
	}
	if int64(len(in.raw)) > s.cfg.MaxMessage {
		row.Raw, row.Truncated = headerOnly(in.raw), true
	}
	return row
}

// headerOnly returns the header block of raw (at most maxKeptHeader bytes).
func headerOnly(raw []byte) []byte {
	end := len(raw)
	for _, sep := range [][]byte{[]byte("\r\n\r\n"), []byte("\n\n")} {
		if i := bytes.Index(raw, sep); i >= 0 && i < end {
			end = i + len(sep)
		}
	}
	return bytes.Clone(raw[:min(end, maxKeptHeader)])
}

// autoLink finds the ticket an automatic mail is about (a bounce or PEC receipt of our mail), for
// the record; it never adds a message.
func (s *Service) autoLink(ctx context.Context, tx *sql.Tx, m *mailin.Message) (int64, error) {
	keys := mailin.ThreadKeys(m)
	if m.PEC.RefMessageID != "" {
		keys = append([]string{m.PEC.RefMessageID}, keys...)
	}
	for _, k := range keys {
		if t, err := ticketOfMessageID(ctx, tx, k); err != nil || t > 0 {
			return t, err
		}
	}
	return 0, nil
}

// findTicket returns the ticket a mail answers: through its In-Reply-To and References (our own
// mail included), then through a ticket tag in the subject; never through subject text.
func (s *Service) findTicket(ctx context.Context, tx *sql.Tx, m *mailin.Message) (*Ticket, error) {
	for _, k := range mailin.ThreadKeys(m) {
		n, err := ticketOfMessageID(ctx, tx, k)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return ticketByNumber(ctx, tx, n)
		}
	}
	if m.TicketTag > 0 {
		t, err := ticketByNumber(ctx, tx, int64(m.TicketTag))
		if rocca.ErrorCodeOf(err) == rocca.ENOTFOUND {
			return nil, nil
		}
		return t, err
	}
	return nil, nil
}

// inboundMessage is the ticket message for a mail.
func (s *Service) inboundMessage(in *inbound, ticket, mailID int64) *Message {
	m := in.msg
	msg := &Message{
		Ticket: ticket, Kind: KindInbound, MessageID: m.MessageID, InReplyTo: m.InReplyTo,
		References: m.References, FromEmail: m.From.Address, FromName: m.From.Name,
		Text: m.NewText, HTML: m.HTML, Warnings: m.Warnings, MailID: mailID, PEC: m.PEC.Envelope,
		PECSender: m.PEC.Sender, CreatedAt: s.now(), Files: in.files,
	}
	if in.user != nil {
		msg.AuthorID = in.user.ID
	}
	if m.Text != m.NewText {
		msg.FullText = m.Text
	}
	for _, f := range m.Forwarded {
		msg.Text += "\n\n" + s.cat.T(s.cfg.Language, "helpdesk.mail.forwarded", f.From.String(), f.Subject) + "\n\n" + f.Text
	}
	msg.Text = strings.TrimSpace(msg.Text)
	return msg
}

// addInbound adds the mail to an existing ticket and opens the ticket again if it was waiting,
// resolved or closed.
func (s *Service) addInbound(ctx context.Context, tx *sql.Tx, in *inbound, row *mailRow, t *Ticket) (routed, error) {
	row.Outcome, row.Ticket = OutcomeReply, t.Number
	if err := insertMail(ctx, tx, row); err != nil {
		return routed{}, err
	}
	if err := insertMessage(ctx, tx, s.inboundMessage(in, t.Number, row.ID), ""); err != nil {
		return routed{}, err
	}
	if err := s.requesterAnswered(ctx, tx, t); err != nil {
		return routed{}, err
	}
	actor := int64(0)
	if in.user != nil {
		actor = in.user.ID
	}
	mailed, err := s.notifyReply(ctx, tx, t, actor)
	return routed{outcome: OutcomeReply, ticket: t.Number, mailed: mailed}, err
}

// requesterAnswered moves a ticket back to work after an answer from outside.
func (s *Service) requesterAnswered(ctx context.Context, tx *sql.Tx, t *Ticket) error {
	switch t.Status {
	case StatusWaiting, StatusResolved, StatusClosed:
		t.Status = StatusOpen
		return setStatus(ctx, tx, t.Number, StatusOpen, s.now())
	}
	return touchTicket(ctx, tx, t.Number, s.now())
}

// openFromMail opens a ticket for the mail (linked to a closed one when linked > 0), acknowledges
// it when ack is set and the rules allow, and notifies the agents.
func (s *Service) openFromMail(ctx context.Context, tx *sql.Tx, in *inbound, row *mailRow, linked int64, ack bool) (routed, error) {
	m := in.msg
	now := s.now()
	t := &Ticket{
		Subject: m.CleanSubject, RequesterEmail: m.From.Address, RequesterName: m.From.Name,
		External: in.external, Status: StatusNew, Priority: PriorityNormal, Source: "mail",
		LinkedID: linked, CreatedAt: now, UpdatedAt: now, DueAt: now.Add(s.cfg.SLA[PriorityNormal]),
	}
	if in.user != nil {
		t.RequesterID = in.user.ID
		if t.RequesterName == "" {
			t.RequesterName = in.user.Name
		}
	}
	if err := insertTicket(ctx, tx, t); err != nil {
		return routed{}, err
	}
	row.Outcome, row.Ticket = OutcomeTicket, t.Number
	if row.ID == 0 {
		if err := insertMail(ctx, tx, row); err != nil {
			return routed{}, err
		}
	}
	if err := insertMessage(ctx, tx, s.inboundMessage(in, t.Number, row.ID), t.Subject); err != nil {
		return routed{}, err
	}
	var acked bool
	if ack {
		var err error
		if acked, err = s.acknowledge(ctx, tx, t, m); err != nil {
			return routed{}, err
		}
	}
	actor := int64(0)
	if in.user != nil {
		actor = in.user.ID
	}
	notified, err := s.notifyNew(ctx, tx, t, actor)
	return routed{outcome: OutcomeTicket, ticket: t.Number, mailed: acked || notified}, err
}
