package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// Message is an e-mail to compose with Bytes. Texts are UTF-8; names in addresses, the subject and
// file names may hold any character and are encoded as the standards want. Message ids are written
// without angle brackets.
type Message struct {
	From    netmail.Address
	To      []netmail.Address
	Cc      []netmail.Address
	ReplyTo []netmail.Address
	Subject string

	Text string // text/plain body
	HTML string // text/html body; with Text the two become multipart/alternative
	// Alternatives are further renderings of the same content after Text and HTML, such as a
	// "text/calendar; method=REQUEST" part of a meeting invitation.
	Alternatives []Part

	MessageID  string   // generated (random@domain) when empty
	InReplyTo  string   // the message this one answers
	References []string // the thread, oldest first

	// Headers are extra header fields, such as Auto-Submitted or X-Auto-Response-Suppress. They may
	// not replace the fields this type writes itself (From, Subject, Content-Type, ...).
	Headers map[string]string

	Attachments []Attachment
}

// Part is one rendering of the body, with its media type and parameters.
type Part struct {
	ContentType string // for example "text/calendar; method=REQUEST; charset=utf-8"
	Body        []byte
}

// Attachment is a file attached to a message.
type Attachment struct {
	Filename    string
	ContentType string // "application/octet-stream" when empty
	Data        []byte
}

// reservedHeaders are written by Bytes from the typed fields; Headers may not set them.
var reservedHeaders = []string{
	"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "in-reply-to",
	"references", "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
}

// Bytes renders the message as RFC 5322 text with CRLF line ends: encoded-word headers (RFC 2047),
// quoted-printable texts, multipart/alternative when there is more than one rendering,
// multipart/mixed when there are attachments, a Date of now and a Message-ID (random@domain when
// m.MessageID is empty; domain defaults to the From address's domain). It returns the message and
// its Message-ID without angle brackets.
func (m Message) Bytes(now time.Time, domain string) (raw []byte, messageID string, err error) {
	h, messageID, err := m.header(now, domain)
	if err != nil {
		return nil, "", err
	}
	bodies, err := m.bodies()
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if len(m.Attachments) == 0 {
		err = writeBodies(&buf, h, bodies)
	} else {
		err = m.writeMixed(&buf, h, bodies)
	}
	if err != nil {
		return nil, "", fmt.Errorf("compose message: %w", err)
	}
	return buf.Bytes(), messageID, nil
}

func (m Message) header(now time.Time, domain string) (gomail.Header, string, error) {
	var h gomail.Header
	if m.From.Address == "" {
		return h, "", errors.New("compose message: no From address")
	}
	if domain == "" {
		domain = domainOf(m.From.Address)
	}
	messageID := bareID(m.MessageID)
	if messageID == "" {
		messageID = NewMessageID(domain)
	}
	inReplyTo := bareID(m.InReplyTo)
	var refs []string
	for _, r := range m.References {
		if r = bareID(r); r != "" {
			refs = append(refs, r)
		}
	}
	for _, id := range append([]string{messageID, inReplyTo}, refs...) {
		if strings.ContainsAny(id, " \t\r\n<>") {
			return h, "", fmt.Errorf("compose message: bad message id %q", id)
		}
	}
	// go-message inserts each field at the top, so fields are set in reverse reading order.
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		if slices.Contains(reservedHeaders, strings.ToLower(k)) || !validFieldName(k) {
			return h, "", fmt.Errorf("compose message: header %q not allowed", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range slices.Backward(keys) {
		h.SetText(k, oneLine(m.Headers[k]))
	}
	if len(refs) > 0 {
		h.SetMsgIDList("References", refs)
	}
	if inReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{inReplyTo})
	}
	h.SetMessageID(messageID)
	h.SetSubject(oneLine(m.Subject))
	h.SetAddressList("Reply-To", addrPtrs(m.ReplyTo))
	h.SetAddressList("Cc", addrPtrs(m.Cc))
	h.SetAddressList("To", addrPtrs(m.To))
	h.SetAddressList("From", addrPtrs([]netmail.Address{m.From}))
	h.SetDate(now)
	return h, messageID, nil
}

// bodies lists the renderings in the order of preference, simplest first (RFC 2046 5.1.4).
func (m Message) bodies() ([]Part, error) {
	var parts []Part
	if m.Text != "" || (m.HTML == "" && len(m.Alternatives) == 0) {
		parts = append(parts, Part{ContentType: "text/plain; charset=utf-8", Body: []byte(m.Text)})
	}
	if m.HTML != "" {
		parts = append(parts, Part{ContentType: "text/html; charset=utf-8", Body: []byte(m.HTML)})
	}
	for _, p := range m.Alternatives {
		if _, _, err := mime.ParseMediaType(p.ContentType); err != nil {
			return nil, fmt.Errorf("compose message: content type %q: %w", p.ContentType, err)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// writeBodies writes the renderings as the whole message: a single part, or multipart/alternative.
func writeBodies(w io.Writer, h gomail.Header, bodies []Part) error {
	if len(bodies) == 1 {
		setContentType(&h.Header, bodies[0].ContentType)
		wc, err := gomail.CreateSingleInlineWriter(w, h)
		if err != nil {
			return err
		}
		return writeClose(wc, bodies[0].Body)
	}
	iw, err := gomail.CreateInlineWriter(w, h)
	if err != nil {
		return err
	}
	if err := writeAlternatives(iw, bodies); err != nil {
		return err
	}
	return iw.Close()
}

func (m Message) writeMixed(w io.Writer, h gomail.Header, bodies []Part) error {
	mw, err := gomail.CreateWriter(w, h)
	if err != nil {
		return err
	}
	if len(bodies) == 1 {
		var ih gomail.InlineHeader
		setContentType(&ih.Header, bodies[0].ContentType)
		wc, err := mw.CreateSingleInline(ih)
		if err != nil {
			return err
		}
		if err := writeClose(wc, bodies[0].Body); err != nil {
			return err
		}
	} else {
		iw, err := mw.CreateInline()
		if err != nil {
			return err
		}
		if err := writeAlternatives(iw, bodies); err != nil {
			return err
		}
		if err := iw.Close(); err != nil {
			return err
		}
	}
	for _, a := range m.Attachments {
		var ah gomail.AttachmentHeader
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			return fmt.Errorf("attachment %q: content type %q: %w", a.Filename, ct, err)
		}
		setContentType(&ah.Header, ct)
		ah.SetFilename(oneLine(a.Filename))
		wc, err := mw.CreateAttachment(ah)
		if err != nil {
			return err
		}
		if err := writeClose(wc, a.Data); err != nil {
			return err
		}
	}
	return mw.Close()
}

func writeAlternatives(iw *gomail.InlineWriter, bodies []Part) error {
	for _, b := range bodies {
		var ih gomail.InlineHeader
		setContentType(&ih.Header, b.ContentType)
		wc, err := iw.CreatePart(ih)
		if err != nil {
			return err
		}
		if err := writeClose(wc, b.Body); err != nil {
			return err
		}
	}
	return nil
}

// setContentType sets a media type given as text; callers validated it with mime.ParseMediaType.
func setContentType(h *message.Header, ct string) {
	t, params, _ := mime.ParseMediaType(ct)
	h.SetContentType(t, params)
}

func writeClose(wc io.WriteCloser, body []byte) error {
	if _, err := wc.Write(body); err != nil {
		wc.Close()
		return err
	}
	return wc.Close()
}

// NewMessageID returns a new random message id "rocca.<random>@domain", without angle brackets.
// An empty domain gives "rocca.invalid".
func NewMessageID(domain string) string {
	if domain == "" {
		domain = "rocca.invalid"
	}
	var b [15]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	id := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return "rocca." + id + "@" + domain
}

// oneLine turns control characters (line breaks above all) into spaces, so text from outside, such
// as the subject of a ticket, cannot break the header it is written into.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// bareID removes the angle brackets callers may leave around a message id.
func bareID(id string) string {
	id = strings.TrimSpace(id)
	if strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") {
		id = id[1 : len(id)-1]
	}
	return id
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c < '!' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

func addrPtrs(l []netmail.Address) []*netmail.Address {
	out := make([]*netmail.Address, len(l))
	for i := range l {
		out[i] = &l[i]
	}
	return out
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}
