package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"mime"
	netmail "net/mail"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/mail"
)

// Limits of what people type into the web forms.
const (
	maxSubject   = 200
	maxText      = 100_000
	maxFiles     = 10
	maxUploadSum = 25 << 20 // all files of one message together; the outbox takes 25 MB per mail
)

// Upload is a file attached from a web form.
type Upload struct {
	Filename    string
	ContentType string
	Data        []byte
}

// isAgent reports whether u works the helpdesk queue (agents and admins).
func isAgent(u *rocca.User) bool { return u.Can(rocca.RoleAgent) }

func requireAgent(u *rocca.User) error {
	if u == nil || !isAgent(u) {
		return rocca.Localized(rocca.EFORBIDDEN, "helpdesk.error.agents_only", "only helpdesk agents may do this")
	}
	return nil
}

// ownsTicket reports whether u is the requester of t.
func ownsTicket(u *rocca.User, t *Ticket) bool {
	return u != nil && (t.RequesterID == u.ID && u.ID != 0 || strings.EqualFold(t.RequesterEmail, u.Email))
}

// cleanText checks a typed text: valid UTF-8, not empty unless files come with it, not too long.
func cleanText(text string, files int) (string, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if !utf8.ValidString(text) {
		return "", rocca.Localized(rocca.EINVALID, "helpdesk.error.text_invalid", "the text is not valid UTF-8")
	}
	if text == "" && files == 0 {
		return "", rocca.Localized(rocca.EINVALID, "helpdesk.error.text_empty", "write a message")
	}
	if len(text) > maxText {
		return "", rocca.Localized(rocca.ETOOLARGE, "helpdesk.error.text_long", "the message is too long", maxText/1000)
	}
	return text, nil
}

// storeUploads checks the size limits and writes the files to the store.
func (s *Service) storeUploads(files []Upload) ([]Attachment, []mail.Attachment, error) {
	if len(files) > maxFiles {
		return nil, nil, rocca.Localized(rocca.EINVALID, "helpdesk.error.too_many_files", "too many files", maxFiles)
	}
	var total int64
	var out []Attachment
	var att []mail.Attachment
	for _, f := range files {
		size := int64(len(f.Data))
		total += size
		if size > s.cfg.MaxAttachment || total > maxUploadSum {
			return nil, nil, rocca.Localized(rocca.ETOOLARGE, "helpdesk.error.file_too_large",
				"the attachments are too large", min(s.cfg.MaxAttachment, maxUploadSum)>>20)
		}
		name := safeFilename(f.Filename)
		ct := f.ContentType
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") {
			ct = "application/octet-stream"
		} else {
			ct = mt
		}
		sum, err := s.files.put(f.Data)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, Attachment{Filename: name, ContentType: ct, Size: size, SHA256: sum})
		att = append(att, mail.Attachment{Filename: name, ContentType: ct, Data: f.Data})
	}
	return out, att, nil
}

// safeFilename keeps the base name of an uploaded file, without control characters.
func safeFilename(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`:*?"<>|`, r) {
			return -1
		}
		return r
	}, name)
	name = strings.ToValidUTF8(strings.TrimSpace(name), "")
	if name == "" || name == "." || name == "/" || name == ".." {
		return "allegato"
	}
	if len(name) > 200 {
		name = strings.ToValidUTF8(name[:200], "")
	}
	return name
}

// Reply sends an agent's answer to the requester by mail (threaded under the newest message, with
// the ticket tag in the subject), records it on the ticket and moves the ticket to status (waiting
// for the requester when empty). The mail and the message commit together.
func (s *Service) Reply(ctx context.Context, actor *rocca.User, n int64, text string, files []Upload, status Status) (*Message, error) {
	if err := requireAgent(actor); err != nil {
		return nil, err
	}
	text, err := cleanText(text, len(files))
	if err != nil {
		return nil, err
	}
	if status == "" {
		status = StatusWaiting
	}
	stored, attach, err := s.storeUploads(files)
	if err != nil {
		return nil, err
	}
	var msg *Message
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		t, err := ticketByNumber(ctx, tx, n)
		if err != nil {
			return err
		}
		if t.RequesterEmail == "" {
			return rocca.Localized(rocca.EINVALID, "helpdesk.error.no_requester_address", "the ticket has no address to answer")
		}
		inReplyTo, refs, err := threadHeaders(ctx, tx, n)
		if err != nil {
			return err
		}
		lang := s.cfg.Language
		body := text + "\n\n-- \n" + s.cat.T(lang, "helpdesk.mail.reply.footer", t.Number, s.link(fmt.Sprintf("/requests/%d", t.Number)))
		id, err := s.enqueue(ctx, tx, t, outMail{
			kind: sentReply, to: netmail.Address{Name: t.RequesterName, Address: t.RequesterEmail},
			subject: "Re: " + s.taggedSubject(lang, t), text: body, inReplyTo: inReplyTo, refs: refs, files: attach,
		})
		if err != nil {
			return err
		}
		msg = &Message{Ticket: n, Kind: KindReply, MessageID: id, InReplyTo: inReplyTo, References: refs,
			AuthorID: actor.ID, FromEmail: s.cfg.Address, FromName: actor.Name, Text: text,
			CreatedAt: s.now(), Files: stored}
		if err := insertMessage(ctx, tx, msg, ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE helpdesk_tickets SET first_response_at = coalesce(first_response_at, ?) WHERE id = ?`, unix(s.now()), n); err != nil {
			return fmt.Errorf("record first response: %w", err)
		}
		if t.AssigneeID == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE helpdesk_tickets SET assignee_id = ? WHERE id = ?`, actor.ID, n); err != nil {
				return fmt.Errorf("assign ticket: %w", err)
			}
		}
		return setStatus(ctx, tx, n, status, s.now())
	})
	if err != nil {
		return nil, err
	}
	s.mailer.Wake()
	s.logger.Info("reply queued", "ticket", n, "agent", actor.ID)
	return msg, nil
}

// AddNote records an internal note, seen by agents only and never mailed.
func (s *Service) AddNote(ctx context.Context, actor *rocca.User, n int64, text string, files []Upload) (*Message, error) {
	if err := requireAgent(actor); err != nil {
		return nil, err
	}
	text, err := cleanText(text, len(files))
	if err != nil {
		return nil, err
	}
	stored, _, err := s.storeUploads(files)
	if err != nil {
		return nil, err
	}
	msg := &Message{Ticket: n, Kind: KindNote, AuthorID: actor.ID, FromEmail: actor.Email, FromName: actor.Name,
		Text: text, CreatedAt: s.now(), Files: stored}
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := ticketByNumber(ctx, tx, n); err != nil {
			return err
		}
		if err := insertMessage(ctx, tx, msg, ""); err != nil {
			return err
		}
		return touchTicket(ctx, tx, n, s.now())
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// Assign gives the ticket to an agent (assignee 0: to nobody) and tells the new assignee.
func (s *Service) Assign(ctx context.Context, actor *rocca.User, n, assignee int64) error {
	if err := requireAgent(actor); err != nil {
		return err
	}
	var target *rocca.User
	if assignee > 0 {
		u, err := s.users.UserByID(ctx, assignee)
		if err != nil {
			return err
		}
		if u.Disabled || !isAgent(u) {
			return rocca.Localized(rocca.EINVALID, "helpdesk.error.assignee", "the ticket can only be assigned to an agent")
		}
		target = u
	}
	var mailed bool
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		t, err := ticketByNumber(ctx, tx, n)
		if err != nil {
			return err
		}
		if t.AssigneeID == assignee {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE helpdesk_tickets SET assignee_id = ?, updated_at = ? WHERE id = ?`,
			nullID(assignee), unix(s.now()), n); err != nil {
			return fmt.Errorf("assign ticket: %w", err)
		}
		if target == nil || target.ID == actor.ID {
			return nil
		}
		mailed, err = s.notify(ctx, tx, t, []*rocca.User{target}, "helpdesk.mail.notify_assigned.subject", "helpdesk.mail.notify_assigned.text")
		return err
	})
	if err == nil && mailed {
		s.mailer.Wake()
	}
	return err
}

// Changes are the fields an agent may change on a ticket; empty fields stay as they are.
type Changes struct {
	Status   Status
	Priority Priority
	Category *string // nil: unchanged; "" clears it
}

// Update changes status, priority (and with it the due time) and category.
func (s *Service) Update(ctx context.Context, actor *rocca.User, n int64, c Changes) error {
	if err := requireAgent(actor); err != nil {
		return err
	}
	if c.Category != nil && *c.Category != "" && !contains(s.cfg.Categories, *c.Category) {
		return rocca.Localized(rocca.EINVALID, "helpdesk.error.category", "unknown category "+*c.Category, *c.Category)
	}
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		t, err := ticketByNumber(ctx, tx, n)
		if err != nil {
			return err
		}
		if c.Status != "" && c.Status != t.Status {
			if err := setStatus(ctx, tx, n, c.Status, s.now()); err != nil {
				return err
			}
		}
		if c.Priority != "" && c.Priority != t.Priority {
			due := t.CreatedAt.Add(s.cfg.SLA[c.Priority])
			if _, err := tx.ExecContext(ctx, `UPDATE helpdesk_tickets SET priority = ?, due_at = ?, updated_at = ? WHERE id = ?`,
				c.Priority, unix(due), unix(s.now()), n); err != nil {
				return fmt.Errorf("set priority: %w", err)
			}
		}
		if c.Category != nil && *c.Category != t.Category {
			if _, err := tx.ExecContext(ctx, `UPDATE helpdesk_tickets SET category = ?, updated_at = ? WHERE id = ?`,
				*c.Category, unix(s.now()), n); err != nil {
				return fmt.Errorf("set category: %w", err)
			}
		}
		return nil
	})
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// CreateRequest opens a ticket from the staff portal's form and tells the agents.
func (s *Service) CreateRequest(ctx context.Context, u *rocca.User, subject, text string, files []Upload) (*Ticket, error) {
	if u == nil || u.Disabled {
		return nil, rocca.Localized(rocca.EUNAUTHORIZED, "helpdesk.error.sign_in", "sign in first")
	}
	subject = strings.Join(strings.Fields(subject), " ")
	if subject == "" || !utf8.ValidString(subject) {
		return nil, rocca.Localized(rocca.EINVALID, "helpdesk.error.subject_empty", "write a subject")
	}
	if utf8.RuneCountInString(subject) > maxSubject {
		return nil, rocca.Localized(rocca.EINVALID, "helpdesk.error.subject_long", "the subject is too long", maxSubject)
	}
	text, err := cleanText(text, 0)
	if err != nil {
		return nil, err
	}
	stored, _, err := s.storeUploads(files)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &Ticket{Subject: subject, RequesterID: u.ID, RequesterEmail: u.Email, RequesterName: u.Name,
		Status: StatusNew, Priority: PriorityNormal, Source: "web", CreatedAt: now, UpdatedAt: now,
		DueAt: now.Add(s.cfg.SLA[PriorityNormal])}
	var mailed bool
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if err := insertTicket(ctx, tx, t); err != nil {
			return err
		}
		msg := &Message{Ticket: t.Number, Kind: KindInbound, AuthorID: u.ID, FromEmail: u.Email, FromName: u.Name,
			Text: text, CreatedAt: now, Files: stored}
		if err := insertMessage(ctx, tx, msg, subject); err != nil {
			return err
		}
		mailed, err = s.notifyNew(ctx, tx, t, u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if mailed {
		s.mailer.Wake()
	}
	return t, nil
}

// RequesterReply adds the requester's answer from the portal. A closed ticket reopens, or, with
// ClosedReply "new", a new ticket linked to it is opened; it returns the ticket the answer went to.
func (s *Service) RequesterReply(ctx context.Context, u *rocca.User, n int64, text string, files []Upload) (int64, error) {
	text, err := cleanText(text, len(files))
	if err != nil {
		return 0, err
	}
	stored, _, err := s.storeUploads(files)
	if err != nil {
		return 0, err
	}
	var mailed bool
	target := n
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		t, err := ticketByNumber(ctx, tx, n)
		if err != nil {
			return err
		}
		if !ownsTicket(u, t) {
			return rocca.Localized(rocca.ENOTFOUND, "helpdesk.error.no_ticket", fmt.Sprintf("ticket %d not found", n), n)
		}
		now := s.now()
		if t.Status == StatusClosed && s.cfg.ClosedReply == ClosedNew {
			nt := &Ticket{Subject: t.Subject, RequesterID: u.ID, RequesterEmail: t.RequesterEmail, RequesterName: t.RequesterName,
				External: t.External, Status: StatusNew, Priority: PriorityNormal, Source: "web", LinkedID: t.Number,
				CreatedAt: now, UpdatedAt: now, DueAt: now.Add(s.cfg.SLA[PriorityNormal])}
			if err := insertTicket(ctx, tx, nt); err != nil {
				return err
			}
			target = nt.Number
			msg := &Message{Ticket: nt.Number, Kind: KindInbound, AuthorID: u.ID, FromEmail: u.Email, FromName: u.Name,
				Text: text, CreatedAt: now, Files: stored}
			if err := insertMessage(ctx, tx, msg, nt.Subject); err != nil {
				return err
			}
			mailed, err = s.notifyNew(ctx, tx, nt, u.ID)
			return err
		}
		msg := &Message{Ticket: n, Kind: KindInbound, AuthorID: u.ID, FromEmail: u.Email, FromName: u.Name,
			Text: text, CreatedAt: now, Files: stored}
		if err := insertMessage(ctx, tx, msg, ""); err != nil {
			return err
		}
		if err := s.requesterAnswered(ctx, tx, t); err != nil {
			return err
		}
		mailed, err = s.notifyReply(ctx, tx, t, u.ID)
		return err
	})
	if err != nil {
		return 0, err
	}
	if mailed {
		s.mailer.Wake()
	}
	return target, nil
}
