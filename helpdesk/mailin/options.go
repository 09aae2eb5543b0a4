package mailin

import "strings"

// Options limit and tune Parse. The zero value is usable: every zero limit takes its default.
type Options struct {
	// MaxSize is the largest raw message accepted; a larger one fails with a *TooLargeError
	// (errors.Is(err, ErrTooLarge)). Default 40 MiB.
	MaxSize int64
	// MaxAttachment is the largest decoded attachment kept; a larger one is listed with Dropped set,
	// no Data, and the warning WarnAttachmentTooLarge. Default 25 MiB.
	MaxAttachment int64
	// MaxParts is the most MIME entities read in the whole tree, forwarded messages included; more
	// is a *ParseError. Default 500.
	MaxParts int
	// MaxDepth is the deepest nesting of multiparts and message/rfc822 parts. A forwarded message
	// deeper than that is kept as an attachment only (WarnForwardedTooDeep); a deeper multipart is a
	// *ParseError. Default 16.
	MaxDepth int
	// OwnAddresses are the helpdesk's own addresses (compared case-insensitively): mail from them
	// is ours and never answered.
	OwnAddresses []string
	// OwnDomain is the right-hand side of the Message-IDs Rocca generates (for example
	// "rocca.comune.example.it"). It must be used by Rocca alone, never the municipality's mail
	// domain, or every staff message would look like our own.
	OwnDomain string
}

// Defaults of Options.
const (
	DefaultMaxSize       = 40 << 20
	DefaultMaxAttachment = 25 << 20
	DefaultMaxParts      = 500
	DefaultMaxDepth      = 16
)

// Fixed limits that protect the parser itself; they are far above what real mail needs.
const (
	maxHeaderBytes     = 256 << 10 // top-level header block
	maxHeaderLines     = 4096
	maxPartHeaderBytes = 64 << 10 // header block of one MIME part
	maxPartHeaderLines = 1024
	maxBodyText        = 4 << 20 // one text/plain or text/html body part, decoded
	maxAddresses       = 1000    // per address header
	maxReferences      = 100     // Message-IDs kept from References
	maxIDLen           = 998     // one Message-ID, the longest header line RFC 5322 allows
	maxFilename        = 255     // bytes of an attachment file name
)

func (o Options) withDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxAttachment <= 0 {
		o.MaxAttachment = DefaultMaxAttachment
	}
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	o.OwnDomain = strings.ToLower(strings.TrimSpace(o.OwnDomain))
	return o
}
