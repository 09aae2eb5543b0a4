package mailin

import (
	"errors"
	"fmt"
)

// ErrTooLarge matches (errors.Is) every *TooLargeError.
var ErrTooLarge = errors.New("message too large")

// TooLargeError is returned when the raw message is larger than Options.MaxSize. The caller
// quarantines the message with Key (args: size and limit in MiB) as the reason.
type TooLargeError struct {
	Size, Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("message too large: %d bytes, limit %d", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Key is the catalog key that explains the error to an admin.
func (e *TooLargeError) Key() string { return KeyTooLarge }

// Args are the arguments of Key: size and limit in MiB, rounded up.
func (e *TooLargeError) Args() []any { return []any{mib(e.Size), mib(e.Limit)} }

func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }

// ParseError is returned for a message whose structure is broken. Parse still returns a
// best-effort *Message with it (the headers it could read), so the caller can quarantine the mail
// with a readable preview.
type ParseError struct {
	Key  string // catalog key (Key*) naming the problem for the quarantine page
	Part string // MIME part path, "1.2"; "" for the top-level header
	Err  error
}

func (e *ParseError) Error() string {
	where := "header"
	if e.Part != "" {
		where = "part " + e.Part
	}
	return fmt.Sprintf("parse message: %s: %v", where, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Catalog keys of parse errors (quarantine reasons).
const (
	KeyTooLarge   = "helpdesk.mailin.error.too_large"
	KeyHeader     = "helpdesk.mailin.error.header"
	KeyBoundary   = "helpdesk.mailin.error.boundary"
	KeyEncoding   = "helpdesk.mailin.error.encoding"
	KeyPartsLimit = "helpdesk.mailin.error.parts_limit"
	KeyDepthLimit = "helpdesk.mailin.error.depth_limit"
	KeyUnexpected = "helpdesk.mailin.error.unexpected" // a bug: reported, and the mail quarantined
)

// Catalog keys of warnings (Message.Warnings).
const (
	WarnWinmail            = "helpdesk.mailin.warn.winmail"
	WarnAttachmentTooLarge = "helpdesk.mailin.warn.attachment_too_large"
	WarnCharset            = "helpdesk.mailin.warn.charset_unknown"
	WarnEncoding           = "helpdesk.mailin.warn.encoding_unknown"
	WarnTruncated          = "helpdesk.mailin.warn.body_truncated"
	WarnUnterminated       = "helpdesk.mailin.warn.mime_unterminated"
	WarnHeader             = "helpdesk.mailin.warn.header_malformed"
	WarnNoMessageID        = "helpdesk.mailin.warn.no_message_id"
	WarnForwarded          = "helpdesk.mailin.warn.forwarded_unreadable"
	WarnForwardedTooDeep   = "helpdesk.mailin.warn.forwarded_too_deep"
	WarnEncrypted          = "helpdesk.mailin.warn.encrypted"
	WarnPECNoContent       = "helpdesk.mailin.warn.pec_no_postacert"
	WarnDatiCert           = "helpdesk.mailin.warn.pec_daticert_invalid"
)
