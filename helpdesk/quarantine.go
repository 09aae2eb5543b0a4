package helpdesk

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
)

func errNoMail(id int64) error {
	return rocca.Localized(rocca.ENOTFOUND, "helpdesk.error.no_mail", fmt.Sprintf("mail %d not found", id), id)
}

func requireAdmin(u *rocca.User) error {
	if u == nil || !u.Can(rocca.RoleAdmin) {
		return rocca.Localized(rocca.EFORBIDDEN, "helpdesk.error.admins_only", "only administrators may do this")
	}
	return nil
}

// Quarantine lists the mail waiting for an admin: unreadable mail and mail held because of its
// sender, newest first.
func (s *Service) Quarantine(ctx context.Context, actor *rocca.User) ([]MailSummary, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+mailColumns+` FROM helpdesk_mails
		WHERE outcome IN ('quarantine', 'held') ORDER BY received_at DESC, id DESC LIMIT 500`)
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	defer rows.Close()
	var out []MailSummary
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, fmt.Errorf("list quarantine: %w", err)
		}
		out = append(out, summaryOf(m))
	}
	return out, rows.Err()
}

// Mail returns one stored mail's summary (admins: any; agents: those of a ticket).
func (s *Service) Mail(ctx context.Context, actor *rocca.User, id int64) (MailSummary, error) {
	m, err := mailByID(ctx, s.db, id)
	if err != nil {
		return MailSummary{}, err
	}
	if err := s.mayReadMail(actor, m); err != nil {
		return MailSummary{}, err
	}
	return summaryOf(m), nil
}

// RawMail returns the raw bytes of a stored mail, the evidence (PEC envelopes included).
func (s *Service) RawMail(ctx context.Context, actor *rocca.User, id int64) ([]byte, error) {
	m, err := mailByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayReadMail(actor, m); err != nil {
		return nil, err
	}
	raw, err := mailRaw(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, rocca.Localized(rocca.EGONE, "helpdesk.error.mail_purged", "the mail is no longer kept")
	}
	return raw, nil
}

func (s *Service) mayReadMail(actor *rocca.User, m *mailRow) error {
	if actor.Can(rocca.RoleAdmin) || (isAgent(actor) && m.Ticket > 0) {
		return nil
	}
	return rocca.Localized(rocca.EFORBIDDEN, "helpdesk.error.admins_only", "only administrators may do this")
}

// Release turns a quarantined or held mail into a new ticket (no acknowledgement is sent: an admin
// decided, not the sender). An unreadable mail becomes a ticket with what could be read and the
// original attached. It returns the ticket number.
func (s *Service) Release(ctx context.Context, actor *rocca.User, id int64) (int64, error) {
	if err := requireAdmin(actor); err != nil {
		return 0, err
	}
	m, err := mailByID(ctx, s.db, id)
	if err != nil {
		return 0, err
	}
	if m.Outcome != OutcomeQuarantine && m.Outcome != OutcomeHeld {
		return 0, rocca.Localized(rocca.ECONFLICT, "helpdesk.error.not_quarantined", "the mail is not in the quarantine")
	}
	raw, err := mailRaw(ctx, s.db, id)
	if err != nil {
		return 0, err
	}
	in, err := s.prepareRelease(ctx, raw, m)
	if err != nil {
		return 0, err
	}
	var res routed
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		cur, err := mailByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Outcome != OutcomeQuarantine && cur.Outcome != OutcomeHeld {
			return rocca.Localized(rocca.ECONFLICT, "helpdesk.error.not_quarantined", "the mail is not in the quarantine")
		}
		if res, err = s.openFromMail(ctx, tx, in, cur, 0, false); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE helpdesk_mails SET outcome = 'released', ticket_id = ? WHERE id = ?`, res.ticket, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release mail %d: %w", id, err)
	}
	if res.mailed {
		s.mailer.Wake()
	}
	s.logger.Info("quarantined mail released", "mail", id, "ticket", res.ticket, "admin", actor.ID)
	return res.ticket, nil
}

// prepareRelease parses a quarantined mail again for its release: what could be read, plus the
// original as an attachment when it could not be read in full.
func (s *Service) prepareRelease(ctx context.Context, raw []byte, m *mailRow) (*inbound, error) {
	if raw == nil {
		return nil, rocca.Localized(rocca.EGONE, "helpdesk.error.mail_purged", "the mail is no longer kept")
	}
	msg, perr := s.parse(raw)
	if msg == nil {
		msg = &mailin.Message{}
	}
	// The Message-ID threads later answers, unless a copy of the message is stored already.
	if exists, err := messageIDExists(ctx, s.db, msg.MessageID); err != nil {
		return nil, err
	} else if exists || !realID(msg.MessageID) || perr != nil {
		msg.MessageID = ""
	}
	in := &inbound{raw: raw, msg: msg, key: m.Key, allowed: true}
	var err error
	if in.user, _, in.external, err = s.identify(ctx, msg.From.Address); err != nil {
		return nil, err
	}
	if perr == nil {
		if in.files, err = s.storeMailFiles(msg.Attachments); err != nil {
			return nil, err
		}
		return in, nil
	}
	sum, err := s.files.put(raw)
	if err != nil {
		return nil, err
	}
	in.files = []Attachment{{Filename: "messaggio-originale.eml", ContentType: "message/rfc822", Size: int64(len(raw)), SHA256: sum}}
	if msg.CleanSubject == "" {
		msg.CleanSubject = m.Subject
	}
	return in, nil
}

// Discard removes a quarantined or held mail: its raw bytes are deleted, its Message-ID stays so a
// second delivery is recognised.
func (s *Service) Discard(ctx context.Context, actor *rocca.User, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE helpdesk_mails SET outcome = 'discarded', raw = NULL
		WHERE id = ? AND outcome IN ('quarantine', 'held')`, id)
	if err != nil {
		return fmt.Errorf("discard mail %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return rocca.Localized(rocca.ECONFLICT, "helpdesk.error.not_quarantined", "the mail is not in the quarantine")
	}
	s.logger.Info("quarantined mail discarded", "mail", id, "admin", actor.ID)
	return nil
}
