package helpdesk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
	"github.com/rocca-pa/rocca/internal/mail"
)

// The kinds of mail we send (helpdesk_sent.kind).
const (
	sentReply  = "reply"
	sentAck    = "ack"
	sentNotify = "notify"
)

// outMail is one mail about a ticket.
type outMail struct {
	kind      string
	to        netmail.Address
	subject   string
	text      string
	inReplyTo string
	refs      []string
	files     []mail.Attachment
}

// enqueue composes o and stores it in the outbox inside tx, with our own Message-ID (recorded in
// helpdesk_sent so answers thread), X-Rocca-Ticket (so it is recognised as ours if it ever comes
// back) and, for automatic mail, Auto-Submitted and the null envelope sender so that no
// well-behaved system answers it. It returns the Message-ID.
func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, t *Ticket, o outMail) (string, error) {
	headers := map[string]string{"X-Rocca-Ticket": strconv.FormatInt(t.Number, 10)}
	envFrom := s.cfg.Address
	switch o.kind {
	case sentAck:
		headers["Auto-Submitted"] = "auto-replied"
		headers["X-Auto-Response-Suppress"] = "All"
		envFrom = ""
	case sentNotify:
		headers["Auto-Submitted"] = "auto-generated"
		headers["X-Auto-Response-Suppress"] = "All"
		envFrom = ""
	}
	msg := mail.Message{
		From:       netmail.Address{Name: s.fromName(), Address: s.cfg.Address},
		To:         []netmail.Address{o.to},
		Subject:    o.subject,
		Text:       o.text,
		MessageID:  mail.NewMessageID(s.cfg.MessageIDDomain),
		InReplyTo:  o.inReplyTo,
		References: o.refs,
		Headers:    headers,
	}
	msg.Attachments = o.files
	raw, id, err := msg.Bytes(s.now(), s.cfg.MessageIDDomain)
	if err != nil {
		return "", &composeError{kind: o.kind, err: err}
	}
	outboxID, err := s.mailer.EnqueueTx(ctx, tx, mail.Envelope{From: envFrom, To: []string{o.to.Address}}, raw)
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", o.kind, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO helpdesk_sent (message_id, ticket_id, kind, recipient, outbox_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, id, t.Number, o.kind, o.to.Address, outboxID, unix(s.now()))
	if err != nil {
		return "", fmt.Errorf("record sent mail: %w", err)
	}
	return id, nil
}

// composeError is a mail that cannot be written (a header it cannot carry, say).
type composeError struct {
	kind string
	err  error
}

func (e *composeError) Error() string { return "compose " + e.kind + ": " + e.err.Error() }
func (e *composeError) Unwrap() error { return e.err }

// skippable reports whether a failure to queue automatic mail is about that one mail (an address
// the outbox refuses, a header that cannot be written) rather than the database: such mail is
// skipped and logged, never a reason to refuse the mail that caused it.
func skippable(err error) bool {
	var ce *composeError
	if errors.As(err, &ce) {
		return true
	}
	switch rocca.ErrorCodeOf(err) {
	case rocca.EINVALID, rocca.ETOOLARGE:
		return true
	}
	return false
}

// safeIDs keeps the Message-IDs that can be written into a header.
func safeIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		if realID(id) && !strings.ContainsAny(id, " \t\r\n<>") {
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) fromName() string {
	if s.cfg.Name != "" {
		return s.cfg.Name
	}
	return s.cat.T(s.cfg.Language, "helpdesk.mail.from_name")
}

// taggedSubject is the subject of our mail about t: the ticket tag, then the subject.
func (s *Service) taggedSubject(lang string, t *Ticket) string {
	subject := t.Subject
	if subject == "" {
		subject = s.cat.T(lang, "helpdesk.ticket.no_subject")
	}
	return fmt.Sprintf("[#%d] %s", t.Number, subject)
}

// link is the address of a page, for mail.
func (s *Service) link(path string) string { return s.cfg.PublicURL + path }

// isOwn reports whether addr is one of the helpdesk's own addresses.
func (s *Service) isOwn(addr string) bool {
	if strings.EqualFold(addr, s.cfg.Address) {
		return true
	}
	for _, a := range s.cfg.OwnAddresses {
		if strings.EqualFold(addr, a) {
			return true
		}
	}
	return false
}

// acknowledge tells the sender of a new ticket its number, unless the rules forbid: never to
// automatic mail or PEC, never to ourselves, at most AckLimit per address within AckWindow.
func (s *Service) acknowledge(ctx context.Context, tx *sql.Tx, t *Ticket, m *mailin.Message) (bool, error) {
	to := m.From.Address
	if s.cfg.DisableAcks || m.Auto.Auto || m.PEC.Envelope || m.PEC.Receipt || to == "" || s.isOwn(to) {
		return false, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM helpdesk_sent WHERE recipient = ? AND kind = 'ack' AND created_at > ?`,
		to, unix(s.now().Add(-s.cfg.AckWindow))).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("count acknowledgements: %w", err)
	}
	if n >= s.cfg.AckLimit {
		s.logger.Info("acknowledgement not sent: limit reached", "ticket", t.Number, "limit", s.cfg.AckLimit)
		return false, nil
	}
	lang := s.cfg.Language
	inReplyTo, refs := "", []string(nil)
	if ids := safeIDs([]string{m.MessageID}); len(ids) == 1 {
		inReplyTo = ids[0]
		refs = append(safeIDs(m.References), inReplyTo)
	}
	_, err = s.enqueue(ctx, tx, t, outMail{
		kind:      sentAck,
		to:        m.From,
		subject:   "Re: " + s.taggedSubject(lang, t),
		text:      s.cat.T(lang, "helpdesk.mail.ack.text", t.Number, s.link(fmt.Sprintf("/requests/%d", t.Number))),
		inReplyTo: inReplyTo,
		refs:      refs,
	})
	if err != nil && skippable(err) {
		s.logger.Warn("acknowledgement not sent", "ticket", t.Number, "err", err)
		return false, nil
	}
	return err == nil, err
}

// agents returns the enabled agents (admins too when there is no agent), except the one with id
// except.
func (s *Service) agents(ctx context.Context, except int64) ([]*rocca.User, error) {
	all, err := s.users.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	var agents, admins []*rocca.User
	for _, u := range all {
		if u.Disabled || u.ID == except {
			continue
		}
		switch u.Role {
		case rocca.RoleAgent:
			agents = append(agents, u)
		case rocca.RoleAdmin:
			admins = append(admins, u)
		}
	}
	if len(agents) == 0 {
		return admins, nil
	}
	return agents, nil
}

func userLang(u *rocca.User, fallback string) string {
	if u != nil && (u.Language == "it" || u.Language == "en") {
		return u.Language
	}
	return fallback
}

// notify sends one notification per recipient.
func (s *Service) notify(ctx context.Context, tx *sql.Tx, t *Ticket, to []*rocca.User, subjectKey, textKey string) (bool, error) {
	sent := false
	for _, u := range to {
		if u.Email == "" || s.isOwn(u.Email) {
			continue
		}
		lang := userLang(u, s.cfg.Language)
		_, err := s.enqueue(ctx, tx, t, outMail{
			kind:    sentNotify,
			to:      netmail.Address{Name: u.Name, Address: u.Email},
			subject: s.cat.T(lang, subjectKey, s.taggedSubject(lang, t)),
			text:    s.cat.T(lang, textKey, t.Number, t.RequesterEmail, s.link(fmt.Sprintf("/helpdesk/tickets/%d", t.Number))),
		})
		if err != nil && skippable(err) {
			s.logger.Warn("notification not sent", "ticket", t.Number, "user", u.ID, "err", err)
			continue
		}
		if err != nil {
			return sent, err
		}
		sent = true
	}
	return sent, nil
}

// notifyNew tells the agents (per NotifyNew) of a new ticket, except the agent who opened it.
func (s *Service) notifyNew(ctx context.Context, tx *sql.Tx, t *Ticket, actor int64) (bool, error) {
	if s.cfg.NotifyNew == NotifyNone {
		return false, nil
	}
	to, err := s.agents(ctx, actor)
	if err != nil {
		return false, err
	}
	return s.notify(ctx, tx, t, to, "helpdesk.mail.notify_new.subject", "helpdesk.mail.notify_new.text")
}

// notifyReply tells the assignee (or the agents, per NotifyReply) that the requester answered.
func (s *Service) notifyReply(ctx context.Context, tx *sql.Tx, t *Ticket, actor int64) (bool, error) {
	var to []*rocca.User
	switch {
	case s.cfg.NotifyReply == NotifyNone:
		return false, nil
	case t.AssigneeID > 0 && s.cfg.NotifyReply == NotifyAssignee:
		if t.AssigneeID == actor {
			return false, nil
		}
		u, err := s.users.UserByID(ctx, t.AssigneeID)
		if err != nil {
			if rocca.ErrorCodeOf(err) == rocca.ENOTFOUND {
				return false, nil
			}
			return false, fmt.Errorf("notify assignee: %w", err)
		}
		if !u.Disabled {
			to = []*rocca.User{u}
		}
	default:
		var err error
		if to, err = s.agents(ctx, actor); err != nil {
			return false, err
		}
	}
	return s.notify(ctx, tx, t, to, "helpdesk.mail.notify_reply.subject", "helpdesk.mail.notify_reply.text")
}
