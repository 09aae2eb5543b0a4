package helpdesk

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Kind says what a message of a ticket is.
type Kind string

// The kinds of message.
const (
	KindInbound Kind = "inbound" // from the requester (or anyone writing in), by mail or the web form
	KindReply   Kind = "reply"   // an agent's answer, sent by mail
	KindNote    Kind = "note"    // an internal note, seen by agents only
)

// Message is one message of a ticket.
type Message struct {
	ID         int64        `json:"id"`
	Ticket     int64        `json:"ticket"`
	Kind       Kind         `json:"kind"`
	MessageID  string       `json:"message_id,omitempty"` // RFC 5322 Message-ID; "" for notes and web messages
	InReplyTo  string       `json:"in_reply_to,omitempty"`
	References []string     `json:"references,omitempty"`
	AuthorID   int64        `json:"author_id,omitempty"`
	FromEmail  string       `json:"from_email,omitempty"`
	FromName   string       `json:"from_name,omitempty"`
	Text       string       `json:"text"`                // what is new: quoted history stripped
	FullText   string       `json:"full_text,omitempty"` // the whole text, when it differs
	HTML       string       `json:"-"`                   // sanitised HTML, remote images blocked
	Warnings   []string     `json:"warnings,omitempty"`  // catalog keys
	MailID     int64        `json:"mail_id,omitempty"`   // the raw mail, for evidence
	PEC        bool         `json:"pec,omitempty"`
	PECSender  string       `json:"pec_sender,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
	Files      []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file of a message.
type Attachment struct {
	ID          int64  `json:"id"`
	Message     int64  `json:"message"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	ContentID   string `json:"content_id,omitempty"`
	Inline      bool   `json:"inline,omitempty"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256,omitempty"`
	Dropped     bool   `json:"dropped,omitempty"` // over the size limit: listed, not kept
}

// fakeIDSuffix ends the Message-IDs mailin makes up for mail without one; they are never written
// into the headers of our mail.
const fakeIDSuffix = "@rocca.invalid"

func realID(id string) bool { return id != "" && !strings.HasSuffix(id, fakeIDSuffix) }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// insertMessage stores m with its attachments, indexes its text for search (with subject, when
// given) and sets the ids.
func insertMessage(ctx context.Context, q queryer, m *Message, subject string) error {
	warnings, _ := json.Marshal(nonNil(m.Warnings))
	res, err := q.ExecContext(ctx, `INSERT INTO helpdesk_messages (ticket_id, kind, message_id, in_reply_to,
		refs, author_id, from_email, from_name, body_text, full_text, body_html, warnings, mail_id, pec,
		pec_sender, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Ticket, m.Kind, nullString(m.MessageID), m.InReplyTo, strings.Join(m.References, " "),
		nullID(m.AuthorID), m.FromEmail, m.FromName, m.Text, m.FullText, m.HTML, string(warnings),
		nullID(m.MailID), m.PEC, m.PECSender, unix(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	var names []string
	for i := range m.Files {
		a := &m.Files[i]
		a.Message = m.ID
		res, err := q.ExecContext(ctx, `INSERT INTO helpdesk_attachments (message_id, filename, content_type,
			content_id, inline, size, sha256, dropped) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, a.Filename, a.ContentType, a.ContentID, a.Inline, a.Size, a.SHA256, a.Dropped)
		if err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		names = append(names, a.Filename)
	}
	body := m.Text + "\n" + strings.Join(names, "\n")
	if _, err := q.ExecContext(ctx, `INSERT INTO helpdesk_fts (rowid, subject, body) VALUES (?, ?, ?)`, m.ID, subject, body); err != nil {
		return fmt.Errorf("index message: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const messageColumns = `id, ticket_id, kind, message_id, in_reply_to, refs, author_id, from_email, from_name,
	body_text, full_text, body_html, warnings, mail_id, pec, pec_sender, created_at`

func scanMessage(row interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var messageID sql.NullString
	var author, mailID sql.NullInt64
	var refs, warnings string
	var created int64
	err := row.Scan(&m.ID, &m.Ticket, &m.Kind, &messageID, &m.InReplyTo, &refs, &author, &m.FromEmail,
		&m.FromName, &m.Text, &m.FullText, &m.HTML, &warnings, &mailID, &m.PEC, &m.PECSender, &created)
	if err != nil {
		return nil, err
	}
	m.MessageID, m.AuthorID, m.MailID = messageID.String, author.Int64, mailID.Int64
	m.References = strings.Fields(refs)
	json.Unmarshal([]byte(warnings), &m.Warnings)
	m.CreatedAt = fromUnix(created)
	return &m, nil
}

// messagesOf returns the messages of a ticket in order, with their attachments; notes only when
// withNotes.
func messagesOf(ctx context.Context, q queryer, ticket int64, withNotes bool) ([]*Message, error) {
	query := `SELECT ` + messageColumns + ` FROM helpdesk_messages WHERE ticket_id = ?`
	if !withNotes {
		query += ` AND kind != 'note'`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, ticket)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	var out []*Message
	byID := map[int64]*Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list messages: %w", err)
		}
		out = append(out, m)
		byID[m.ID] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	files, err := attachmentsOfTicket(ctx, q, ticket)
	if err != nil {
		return nil, err
	}
	for _, a := range files {
		if m := byID[a.Message]; m != nil {
			m.Files = append(m.Files, a)
		}
	}
	return out, nil
}

const attachmentColumns = `a.id, a.message_id, a.filename, a.content_type, a.content_id, a.inline, a.size, a.sha256, a.dropped`

func scanAttachment(row interface{ Scan(...any) error }) (Attachment, error) {
	var a Attachment
	err := row.Scan(&a.ID, &a.Message, &a.Filename, &a.ContentType, &a.ContentID, &a.Inline, &a.Size, &a.SHA256, &a.Dropped)
	return a, err
}

func attachmentsOfTicket(ctx context.Context, q queryer, ticket int64) ([]Attachment, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+attachmentColumns+` FROM helpdesk_attachments a
		JOIN helpdesk_messages m ON m.id = a.message_id WHERE m.ticket_id = ? ORDER BY a.id`, ticket)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, fmt.Errorf("list attachments: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// attachmentByID returns an attachment with the ticket and kind of its message.
func attachmentByID(ctx context.Context, q queryer, id int64) (Attachment, int64, Kind, error) {
	var ticket int64
	var kind Kind
	row := q.QueryRowContext(ctx, `SELECT `+attachmentColumns+`, m.ticket_id, m.kind FROM helpdesk_attachments a
		JOIN helpdesk_messages m ON m.id = a.message_id WHERE a.id = ?`, id)
	var a Attachment
	err := row.Scan(&a.ID, &a.Message, &a.Filename, &a.ContentType, &a.ContentID, &a.Inline, &a.Size,
		&a.SHA256, &a.Dropped, &ticket, &kind)
	return a, ticket, kind, err
}

// ticketOfMessageID returns the ticket that holds a message with this Message-ID, or that a mail
// of ours with this Message-ID was about; 0 when none.
func ticketOfMessageID(ctx context.Context, q queryer, id string) (int64, error) {
	var ticket int64
	err := q.QueryRowContext(ctx, `SELECT ticket_id FROM helpdesk_messages WHERE message_id = ?1
		UNION ALL SELECT ticket_id FROM helpdesk_sent WHERE message_id = ?1 LIMIT 1`, id).Scan(&ticket)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find thread: %w", err)
	}
	return ticket, nil
}

// messageIDExists reports whether a message with this Message-ID is stored.
func messageIDExists(ctx context.Context, q queryer, id string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM helpdesk_messages WHERE message_id = ?`, id).Scan(&n)
	return n > 0, err
}

// threadHeaders returns what an answer on the ticket must carry so the requester's mail client
// threads it: In-Reply-To the newest message from the requester with a real Message-ID (our own
// newest message when there is none), and References every real Message-ID of the ticket in
// order — at most 20: the first and the newest 19 — so that the thread holds even when a client
// dropped References on the way.
func threadHeaders(ctx context.Context, q queryer, ticket int64) (inReplyTo string, refs []string, err error) {
	rows, err := q.QueryContext(ctx, `SELECT message_id, kind FROM helpdesk_messages
		WHERE ticket_id = ? AND message_id IS NOT NULL AND kind IN ('inbound', 'reply') ORDER BY id`, ticket)
	if err != nil {
		return "", nil, fmt.Errorf("thread headers: %w", err)
	}
	defer rows.Close()
	var lastAny string
	for rows.Next() {
		var id string
		var kind Kind
		if err := rows.Scan(&id, &kind); err != nil {
			return "", nil, fmt.Errorf("thread headers: %w", err)
		}
		if len(safeIDs([]string{id})) == 0 {
			continue
		}
		refs = append(refs, id)
		lastAny = id
		if kind == KindInbound {
			inReplyTo = id
		}
	}
	if err := rows.Err(); err != nil {
		return "", nil, fmt.Errorf("thread headers: %w", err)
	}
	if inReplyTo == "" {
		inReplyTo = lastAny
	}
	if len(refs) > 20 {
		refs = append(refs[:1], refs[len(refs)-19:]...)
	}
	return inReplyTo, refs, nil
}

// SizeText is the size for people: "830 B", "12 KB", "3.4 MB".
func (a Attachment) SizeText() string {
	switch {
	case a.Size < 1000:
		return fmt.Sprintf("%d B", a.Size)
	case a.Size < 1_000_000:
		return fmt.Sprintf("%d KB", (a.Size+500)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(a.Size)/1e6)
}
