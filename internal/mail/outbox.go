package mail

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
)

// The states of an outbox message.
const (
	StateQueued  = "queued"  // waiting for its next attempt
	StateSending = "sending" // handed to the relay right now (or when the process died)
	StateSent    = "sent"    // the relay accepted it
	StateFailed  = "failed"  // refused for good, or not accepted within GiveUpAfter; can be retried by hand
)

// States lists the states in display order.
func States() []string { return []string{StateQueued, StateSending, StateSent, StateFailed} }

const (
	// MaxMessageSize is the largest message Enqueue accepts, attachments included once encoded.
	MaxMessageSize = 25 << 20
	// GiveUpAfter is how long temporary failures are retried before a message is marked failed.
	GiveUpAfter = 72 * time.Hour

	firstRetry = time.Minute // the wait after the first temporary failure; doubles each time
	maxRetry   = time.Hour   // the longest wait between attempts
	safetyPoll = time.Minute // the worker looks at the table at least this often
)

// Outbox stores outbound messages in SQLite and delivers them through a Sender, one at a time, from
// the loop in Run.
type Outbox struct {
	db      *sqlite.DB
	sender  Sender
	logger  *slog.Logger
	now     func() time.Time
	wake    chan struct{}
	running atomic.Bool
	pages   *web.Renderer // the admin page; set by Routes
}

// NewOutbox returns the outbox over db (migrated with Migrations), delivering through sender. now is
// the clock (time.Now outside tests).
func NewOutbox(db *sqlite.DB, sender Sender, logger *slog.Logger, now func() time.Time) *Outbox {
	return &Outbox{
		db:     db,
		sender: sender,
		logger: logger.With("part", "mail"),
		now:    now,
		wake:   make(chan struct{}, 1),
	}
}

// Wake tells the worker to look for due messages now. Callers of EnqueueTx call it after their
// transaction commits; it never blocks.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Enqueue stores the message (committed before it returns) and wakes the worker. raw is an RFC 5322
// message, as from Message.Bytes; when it has no Message-ID one is added, so that every copy sent
// carries the same id. It returns the outbox id.
func (o *Outbox) Enqueue(ctx context.Context, env Envelope, raw []byte) (int64, error) {
	var id int64
	err := o.db.WithTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = o.EnqueueTx(ctx, tx, env, raw)
		return err
	})
	if err != nil {
		return 0, err
	}
	o.logger.Info("mail queued", "id", id)
	o.Wake()
	return id, nil
}

// EnqueueTx stores the message inside the caller's transaction, so that, for example, a helpdesk
// reply and its e-mail are saved together or not at all. The caller calls Wake after committing.
func (o *Outbox) EnqueueTx(ctx context.Context, tx *sql.Tx, env Envelope, raw []byte) (int64, error) {
	m, err := newQueued(env, raw)
	if err != nil {
		return 0, err
	}
	now := o.now()
	m.createdAt = now
	m.nextAttemptAt = now
	m.giveUpAt = now.Add(GiveUpAfter)
	id, err := insertQueued(ctx, tx, m)
	if err != nil {
		return 0, fmt.Errorf("enqueue mail: %w", err)
	}
	o.logger.Debug("mail stored", "id", id, "message_id", m.messageID, "recipients", len(m.to))
	return id, nil
}

// queued is one outbox row as the worker needs it.
type queued struct {
	id            int64
	createdAt     time.Time
	from          string
	to            []string
	raw           []byte
	messageID     string
	subject       string
	attempts      int
	nextAttemptAt time.Time
	giveUpAt      time.Time
}

// newQueued checks the envelope and the message and fills in its Message-ID and subject.
func newQueued(env Envelope, raw []byte) (*queued, error) {
	if len(env.To) == 0 {
		return nil, rocca.Localized(rocca.EINVALID, "mail.error.no_recipients", "the message has no recipients")
	}
	addrs := env.To
	if env.From != "" { // "" is the null sender
		addrs = append([]string{env.From}, env.To...)
	}
	for _, a := range addrs {
		if !validAddrSpec(a) {
			return nil, rocca.Localized(rocca.EINVALID, "mail.error.bad_address", "not a valid e-mail address: "+a, a)
		}
	}
	if len(raw) > MaxMessageSize {
		return nil, rocca.Localized(rocca.ETOOLARGE, "mail.error.too_large",
			fmt.Sprintf("the message is larger than %d MB", MaxMessageSize>>20), MaxMessageSize>>20)
	}
	th, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil || th.Len() == 0 {
		return nil, rocca.Localized(rocca.EINVALID, "mail.error.bad_message", "the message has no readable header")
	}
	h := gomail.Header{Header: message.Header{Header: th}}
	id, err := h.MessageID()
	if err != nil {
		return nil, rocca.Localized(rocca.EINVALID, "mail.error.bad_message", "the message has a malformed Message-ID")
	}
	if id == "" {
		from := env.From
		if list, _ := h.AddressList("From"); len(list) > 0 {
			from = list[0].Address
		}
		id = NewMessageID(domainOf(from))
		raw = append([]byte("Message-ID: <"+id+">\r\n"), raw...)
	}
	subject, _ := h.Subject() // undecodable charsets leave the raw text, good enough for a list
	return &queued{
		from:      env.From,
		to:        env.To,
		raw:       raw,
		messageID: id,
		subject:   subject,
	}, nil
}

// validAddrSpec accepts a bare address as RCPT TO and MAIL FROM want it.
func validAddrSpec(a string) bool {
	if len(a) > 254 || strings.ContainsAny(a, " \t\r\n<>,") {
		return false
	}
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 {
		return false
	}
	p, err := netmail.ParseAddress(a)
	return err == nil && p.Address == a
}
