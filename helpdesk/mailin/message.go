package mailin

import (
	"net/mail"
	"time"
)

// Message is one parsed e-mail. For a PEC envelope it is the inner message (postacert.eml) with
// the envelope described in PEC. Every string is valid UTF-8.
type Message struct {
	// MessageID is the Message-ID without angle brackets. When the mail has none it is
	// "sha256.<hex>@rocca.invalid", the SHA-256 of the raw header block, so a re-delivery of the
	// same bytes dedupes while a different mail never collides; HasMessageID is then false.
	MessageID    string
	HasMessageID bool
	InReplyTo    string   // first Message-ID of In-Reply-To, without brackets
	References   []string // oldest first, as in the header, without brackets

	From    mail.Address   // the identity of the sender; Address has a lower-case domain
	ReplyTo []mail.Address // where the sender wants answers; never an identity
	To, Cc  []mail.Address
	Date    time.Time // zero when missing or unreadable

	Subject      string // as written, decoded
	CleanSubject string // without reply/forward prefixes and ticket tags
	TicketTag    int    // the number in "[#123]" (see ParseTicketTag), 0 when none

	Text    string // plain text body; converted from HTML when there is no text part
	NewText string // Text without quoted history; equal to Text for forwards or when all is quote
	HTML    string // sanitised HTML body, remote images blocked; "" when the mail has no HTML

	Attachments []Attachment
	Forwarded   []*Message // message/rfc822 parts, parsed
	Warnings    []string   // catalog keys (Warn*), each at most once

	Auto AutoInfo
	PEC  PECInfo
}

// Attachment is one non-body part. Data holds the decoded bytes unless Dropped.
type Attachment struct {
	Filename    string // decoded (RFC 2047/2231), base name only; generated when the mail has none
	ContentType string // lower-case media type, e.g. "application/pdf"
	ContentID   string // without angle brackets; what cid: URLs in HTML point at
	Inline      bool
	Size        int64  // decoded size in bytes
	SHA256      string // hex; "" when Dropped
	Data        []byte
	Dropped     bool // larger than Options.MaxAttachment: listed, not kept
}

// AutoInfo says whether a message was sent by a machine. The helpdesk must never acknowledge a
// message with Auto set; Reason names the first rule that matched (see detectAuto).
type AutoInfo struct {
	Auto   bool
	Reason string
	Bounce bool // a delivery failure report (DSN, X-Failed-Recipients, PEC delivery errors)
	List   bool // mailing-list traffic (List-Id, List-Unsubscribe, Precedence: list)
}

// PECInfo describes Italian certified mail (posta elettronica certificata).
type PECInfo struct {
	// Envelope is set for a transport envelope (X-Trasporto): the Message is then the inner
	// postacert.eml. The caller keeps the raw envelope as evidence. No automatic acknowledgement
	// may go to a PEC envelope.
	Envelope bool
	// Receipt is set for a receipt (X-Ricevuta); receipts never create tickets and Auto is set.
	Receipt bool
	// Kind is the X-Trasporto or X-Ricevuta value: posta-certificata, errore, accettazione,
	// avvenuta-consegna, non-accettazione, errore-consegna, preavviso-errore-consegna,
	// presa-in-carico, rilevazione-virus.
	Kind string
	// Sender is the certified sender (daticert mittente), falling back to the envelope's From.
	Sender string
	// EnvelopeMessageID is the Message-ID of the envelope itself.
	EnvelopeMessageID string
	// RefMessageID is, for a receipt, the Message-ID of the message it certifies
	// (X-Riferimento-Message-ID, else daticert msgid).
	RefMessageID string
	// DatiCert is the parsed daticert.xml, nil when absent or unreadable.
	DatiCert *DatiCert
}
