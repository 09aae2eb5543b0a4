// Package mail owns Rocca's outbound e-mail: composing RFC 5322 messages (Message.Bytes), sending
// them to the configured SMTP relay (SMTP, a Sender), and the persistent outbox (Outbox, table
// mail_outbox) that stores every message before it is sent and retries it until the relay takes it,
// so no message is lost across errors, restarts or crashes. It also serves the admin page that lists
// the outbox and retries failed messages.
//
// It also owns the mail accounts (Accounts, table mail_accounts): how Rocca signs in to the helpdesk
// mailbox (IMAP) and the relay (SMTP), with a password from a 0600 file or with OAuth2 (Microsoft
// 365, Google Workspace, a generic provider) through XOAUTH2 or OAUTHBEARER. Both methods are an
// Auth to callers. OAuth2 sign-in happens on the admin page "Account di posta" (authorization code
// with PKCE) or from a terminal (`rocca mail login`, the device grant); refresh tokens are stored
// encrypted with a key in <data_dir>/oauth.key, access tokens only in memory.
//
// Delivery is at-least-once. A message is committed to SQLite before Enqueue returns. The worker
// (Outbox.Run) marks it "sending" in a committed transaction before it talks SMTP and "sent" after the
// relay's 250 reply to DATA. If the process dies between the two, the message is found in "sending" at
// the next start: it may or may not have reached the relay, and we cannot ask. We resend it rather than
// risk losing it, byte for byte, so it carries the SAME Message-ID as the first copy: receiving mail
// systems, mail clients and Rocca's own helpdesk (which threads and dedupes on Message-ID) recognise
// the second copy as a duplicate. A message that was only queued when the process died is sent once.
//
// Imported by cmd/rocca (which builds the SMTP sender, the outbox and the accounts, runs their loops
// and mounts their admin pages and admin-socket routes), by the installer (presets, device sign-in,
// live checks), and by the parts that send mail or read the helpdesk mailbox, which see it only
// through small interfaces they declare themselves (for example Enqueue, or EnqueueTx plus Wake, or
// an Authenticate method). It does not import internal/auth or any part.
package mail

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/rocca-pa/rocca/internal/sqlite"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema of this package (part "mail": tables mail_outbox and mail_accounts).
func Migrations() sqlite.Migrations {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		// The directory is embedded at build time; failing here is a build bug.
		panic(err)
	}
	return sqlite.Migrations{Part: "mail", FS: sub}
}

// Envelope is the SMTP envelope of a message: MAIL FROM and RCPT TO. From "" is the null sender
// (MAIL FROM:<>), used for automatic replies so that they never trigger replies themselves.
// Addresses are bare addr-specs ("anna@comune.example.it"), without names or angle brackets.
type Envelope struct {
	From string
	To   []string
}

// Sender delivers one message to a mail relay. It is the seam between the outbox and the network:
// SMTP implements it. A returned error for which IsPermanent is true means the relay refused the
// message for good (a 5xx reply to MAIL, RCPT or DATA); any other error is temporary and the message
// is tried again later. A *PartialError means the message was delivered to some recipients only.
type Sender interface {
	Send(ctx context.Context, env Envelope, raw []byte) error
}

// PermanentError wraps an error after which trying the same message again cannot help.
type PermanentError struct {
	Err error
}

func (e *PermanentError) Error() string { return "permanent failure: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err (or an error it wraps) is a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// PartialError reports that the relay accepted the message for some recipients and refused the
// others permanently. The message counts as sent; the refusals are recorded for the admins.
type PartialError struct {
	Rejected map[string]error // recipient -> the relay's refusal
}

func (e *PartialError) Error() string {
	parts := make([]string, 0, len(e.Rejected))
	for _, rcpt := range slices.Sorted(maps.Keys(e.Rejected)) {
		parts = append(parts, fmt.Sprintf("%s: %v", rcpt, e.Rejected[rcpt]))
	}
	return "refused for some recipients: " + strings.Join(parts, "; ")
}
