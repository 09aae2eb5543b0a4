package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Parse reads one raw message (RFC 5322 with MIME) into a Message.
//
// Errors, and what comes back with them:
//   - raw larger than opts.MaxSize: a *TooLargeError (errors.Is ErrTooLarge) and a header-only
//     Message for the quarantine preview;
//   - a broken structure (unreadable header, boundary not found, invalid base64, too many parts, a
//     multipart nested too deep): a *ParseError and a best-effort Message with whatever was read.
//
// The caller quarantines on any error. Parse never panics and uses memory proportional to raw:
// header blocks, part counts, nesting, body text and attachments are all bounded. Text and
// NewText use "\n" line ends. Attachment data never shares memory with raw.
//
// Headers and the multipart structure are read with go-message's textproto; the body walk is
// ours, over the raw bytes, so that every limit holds (go-message's readers bound neither part
// headers nor part counts) and a missing closing boundary, a mislabelled charset or lenient
// quoted-printable are handled the way mail clients handle them.
func Parse(raw []byte, opts Options) (m *Message, err error) {
	opts = opts.withDefaults()
	p := &mimeParser{opts: opts}
	defer func() {
		// A bug here or in a library must cost one quarantined message, never the ingest loop.
		// The fuzz tests treat KeyUnexpected as a failure, so this is no place to hide bugs.
		if r := recover(); r != nil {
			m = safePreview(p, raw)
			err = &ParseError{Key: KeyUnexpected, Err: fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
		}
	}()
	if int64(len(raw)) > opts.MaxSize {
		return p.preview(raw), &TooLargeError{Size: int64(len(raw)), Limit: opts.MaxSize}
	}
	m, perr := p.message(raw, 0)
	if perr != nil {
		return m, perr
	}
	return m, nil // not perr: a nil *ParseError is a non-nil error
}

// safePreview returns the header-only preview, or a bare message identified by the hash of raw
// if even that fails.
func safePreview(p *mimeParser, raw []byte) (m *Message) {
	defer func() {
		if recover() != nil {
			sum := sha256.Sum256(raw)
			m = &Message{MessageID: "sha256." + hex.EncodeToString(sum[:]) + "@rocca.invalid"}
		}
	}()
	return p.preview(raw)
}

type mimeParser struct {
	opts  Options
	parts int // MIME entities seen in the whole tree, forwarded messages included
}

// msgBuilder collects the pieces of one message (the top one or a forwarded one) during the walk.
type msgBuilder struct {
	m         *Message
	texts     []string
	htmls     []string
	bodyBytes int
	err       *ParseError // the first structural error
	daticert  []byte
	postacert *Message
	forwards  int
}

func (b *msgBuilder) warn(key string) {
	for _, w := range b.m.Warnings {
		if w == key {
			return
		}
	}
	b.m.Warnings = append(b.m.Warnings, key)
}

func (b *msgBuilder) fail(key, part string, err error) {
	if b.err == nil {
		b.err = &ParseError{Key: key, Part: part, Err: err}
	}
}

// message parses a whole message at nesting depth.
func (p *mimeParser) message(raw []byte, depth int) (*Message, *ParseError) {
	b := &msgBuilder{m: &Message{}}
	hdr, body, malformed, err := splitHeader(raw, maxHeaderBytes, maxHeaderLines)
	h, ferr := readFields(hdr)
	p.fillHeader(b, h, hdr)
	switch {
	case err != nil:
		b.fail(KeyHeader, "", err)
	case ferr != nil:
		b.fail(KeyHeader, "", ferr)
	case h.Len() == 0:
		b.fail(KeyHeader, "", errNoHeader)
	}
	if malformed {
		b.warn(WarnHeader)
	}
	if b.err == nil {
		p.entity(b, h, body, depth, "", "text/plain")
	}
	p.finish(b, h)
	m := p.pec(b, h)
	if b.err != nil {
		return m, b.err
	}
	return m, nil
}

// preview reads only the header of a message too large to parse.
func (p *mimeParser) preview(raw []byte) *Message {
	b := &msgBuilder{m: &Message{}}
	hdr, _, _, _ := splitHeader(raw, maxHeaderBytes, maxHeaderLines)
	h, _ := readFields(hdr)
	p.fillHeader(b, h, hdr)
	b.m.Auto = detectAuto(h, b.m, p.opts)
	b.m.PEC = pecFromHeader(h)
	if b.m.PEC.Receipt {
		b.m.Auto = receiptAuto(b.m.Auto, b.m.PEC.Kind)
	}
	return b.m
}

func (p *mimeParser) fillHeader(b *msgBuilder, h textproto.Header, hdr []byte) {
	m := b.m
	m.MessageID = firstMsgID(h.Get("Message-Id"))
	m.HasMessageID = m.MessageID != ""
	if !m.HasMessageID {
		sum := sha256.Sum256(hdr)
		m.MessageID = "sha256." + hex.EncodeToString(sum[:]) + "@rocca.invalid"
		b.warn(WarnNoMessageID)
	}
	m.InReplyTo = firstMsgID(h.Get("In-Reply-To"))
	m.References = trimReferences(parseMsgIDs(strings.Join(h.Values("References"), " ")))
	from := parseAddressList(h.Get("From"))
	if len(from) == 0 {
		from = parseAddressList(h.Get("Sender"))
	}
	if len(from) > 0 {
		m.From = from[0]
	}
	m.ReplyTo = parseAddressList(h.Get("Reply-To"))
	m.To = parseAddressList(strings.Join(h.Values("To"), ", "))
	m.Cc = parseAddressList(strings.Join(h.Values("Cc"), ", "))
	m.Date = parseDate(h.Get("Date"))
	m.Subject = headerText(h, "Subject")
	m.CleanSubject = CleanSubject(m.Subject)
	m.TicketTag = ParseTicketTag(m.Subject)
}

func childPath(parent string, i int) string {
	if parent == "" {
		return strconv.Itoa(i + 1)
	}
	return parent + "." + strconv.Itoa(i+1)
}

func partName(path string) string {
	if path == "" {
		return "1"
	}
	return path
}

// entity dispatches one MIME entity by its type.
func (p *mimeParser) entity(b *msgBuilder, h textproto.Header, body []byte, depth int, path, defType string) {
	p.parts++
	if p.parts > p.opts.MaxParts {
		b.fail(KeyPartsLimit, partName(path), fmt.Errorf("more than %d MIME parts", p.opts.MaxParts))
		return
	}
	mediaType, params := parseParams(h.Get("Content-Type"))
	if !validMediaType(mediaType) {
		if mediaType == "text" {
			mediaType = "text/plain"
		} else if mediaType == "" {
			mediaType = defType
		} else {
			mediaType = "application/octet-stream"
		}
	}
	disp, dparams := parseParams(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		p.multipart(b, mediaType, params, body, depth, path)
	case mediaType == "message/rfc822" || mediaType == "message/global":
		p.forwarded(b, h, mediaType, disp, name, body, depth, path)
	case (mediaType == "text/plain" || mediaType == "text/html") && disp != "attachment" && name == "":
		p.bodyText(b, h, mediaType, params, body, path)
	default:
		p.attachment(b, h, mediaType, params, disp, name, body, path)
	}
}

func validMediaType(t string) bool {
	typ, sub, ok := strings.Cut(t, "/")
	return ok && typ != "" && sub != "" && !strings.ContainsAny(t, " \t\"")
}

func (p *mimeParser) multipart(b *msgBuilder, mediaType string, params map[string]string, body []byte, depth int, path string) {
	if depth >= p.opts.MaxDepth {
		b.fail(KeyDepthLimit, partName(path), fmt.Errorf("multipart nested deeper than %d", p.opts.MaxDepth))
		return
	}
	boundary := params["boundary"]
	if boundary == "" || len(boundary) > 200 {
		b.fail(KeyBoundary, partName(path), errors.New("multipart without a usable boundary"))
		return
	}
	parts, closed := splitMultipart(body, boundary, p.opts.MaxParts)
	if len(parts) == 0 {
		b.fail(KeyBoundary, partName(path), fmt.Errorf("boundary %q not found", boundary))
		// The raw body, as text, is the best preview the quarantine page can show.
		preview := body[:min(len(body), 64<<10)]
		s, _ := decodeCharset("", preview)
		b.texts = append(b.texts, normalizeNewlines(s))
		return
	}
	if !closed {
		b.warn(WarnUnterminated)
	}
	if mediaType == "multipart/encrypted" {
		b.warn(WarnEncrypted)
	}
	defType := "text/plain"
	if mediaType == "multipart/digest" {
		defType = "message/rfc822"
	}
	for i, part := range parts {
		cp := childPath(path, i)
		hdr, pbody, malformed, err := splitHeader(part, maxPartHeaderBytes, maxPartHeaderLines)
		if err != nil {
			b.fail(KeyHeader, cp, err)
			continue
		}
		if malformed {
			b.warn(WarnHeader)
		}
		ph, err := readFields(hdr)
		if err != nil {
			b.fail(KeyHeader, cp, err)
			continue
		}
		p.entity(b, ph, pbody, depth+1, cp, defType)
		if p.parts > p.opts.MaxParts {
			return
		}
	}
}

// decode undoes the transfer encoding of a leaf part, noting problems on b.
func (p *mimeParser) decode(b *msgBuilder, h textproto.Header, body []byte, path string) []byte {
	data, known, err := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	if !known {
		b.warn(WarnEncoding)
	}
	if err != nil {
		b.fail(KeyEncoding, partName(path), err)
	}
	return data
}

func (p *mimeParser) bodyText(b *msgBuilder, h textproto.Header, mediaType string, params map[string]string, body []byte, path string) {
	data := p.decode(b, h, body, path)
	if room := 2*maxBodyText - b.bodyBytes; len(data) > maxBodyText || len(data) > room {
		data = data[:max(0, min(maxBodyText, room))]
		b.warn(WarnTruncated)
	}
	b.bodyBytes += len(data)
	s, known := decodeCharset(params["charset"], data)
	if !known {
		b.warn(WarnCharset)
	}
	if mediaType == "text/html" {
		b.htmls = append(b.htmls, s)
		return
	}
	s = normalizeNewlines(s)
	if strings.EqualFold(params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
	}
	b.texts = append(b.texts, s)
}

func (p *mimeParser) attachment(b *msgBuilder, h textproto.Header, mediaType string, params map[string]string, disp, name string, body []byte, path string) {
	data := p.decode(b, h, body, path)
	a := p.newAttachment(b, h, mediaType, disp, name, data, path)
	if mediaType == "application/ms-tnef" || mediaType == "application/vnd.ms-tnef" || strings.EqualFold(a.Filename, "winmail.dat") {
		b.warn(WarnWinmail)
	}
	// Only S/MIME encryption is unreadable; a .p7m without smime-type is a CAdES-signed file,
	// the everyday signed document of Italian public administration.
	if (mediaType == "application/pkcs7-mime" || mediaType == "application/x-pkcs7-mime") &&
		(strings.Contains(strings.ToLower(params["smime-type"]), "enveloped") || strings.EqualFold(a.Filename, "smime.p7m")) {
		b.warn(WarnEncrypted)
	}
	if strings.EqualFold(a.Filename, "daticert.xml") && !a.Dropped && b.daticert == nil {
		b.daticert = a.Data
	}
	b.m.Attachments = append(b.m.Attachments, a)
}

func (p *mimeParser) newAttachment(b *msgBuilder, h textproto.Header, mediaType, disp, name string, data []byte, path string) Attachment {
	a := Attachment{
		Filename:    sanitizeFilename(decodeWords(name)),
		ContentType: mediaType,
		ContentID:   firstContentID(h.Get("Content-Id")),
		Inline:      disp == "inline" || (disp == "" && h.Get("Content-Id") != ""),
		Size:        int64(len(data)),
	}
	if a.Filename == "" {
		a.Filename = "part-" + partName(path) + extension(mediaType)
	}
	if a.Size > p.opts.MaxAttachment {
		a.Dropped = true
		b.warn(WarnAttachmentTooLarge)
		return a
	}
	a.Data = data
	if !isDecodedCopy(h.Get("Content-Transfer-Encoding")) {
		a.Data = bytes.Clone(data) // identity encodings return a slice of raw
	}
	if a.Data == nil {
		a.Data = []byte{}
	}
	sum := sha256.Sum256(a.Data)
	a.SHA256 = hex.EncodeToString(sum[:])
	return a
}

func firstContentID(v string) string {
	v = strings.TrimSpace(v)
	if id := firstMsgID(v); id != "" {
		return id
	}
	return strings.Trim(strings.Join(strings.Fields(v), ""), "<>")
}

// forwarded keeps a message/rfc822 part as an attachment and parses it into Forwarded.
func (p *mimeParser) forwarded(b *msgBuilder, h textproto.Header, mediaType, disp, name string, body []byte, depth int, path string) {
	data := p.decode(b, h, body, path)
	a := p.newAttachment(b, h, mediaType, disp, name, data, path)
	if depth+1 >= p.opts.MaxDepth {
		b.warn(WarnForwardedTooDeep)
		b.m.Attachments = append(b.m.Attachments, a)
		return
	}
	fm, err := p.message(data, depth+1)
	if err != nil {
		if err.Key == KeyPartsLimit {
			b.fail(err.Key, partName(path)+"/"+err.Part, err.Err)
		}
		b.warn(WarnForwarded)
	}
	if name == "" && fm.CleanSubject != "" {
		a.Filename = sanitizeFilename(fm.CleanSubject) + ".eml"
	}
	b.m.Attachments = append(b.m.Attachments, a)
	b.m.Forwarded = append(b.m.Forwarded, fm)
	if strings.EqualFold(a.Filename, "postacert.eml") && b.postacert == nil {
		b.postacert = fm
	}
}

// finish builds the text, HTML and automatic-mail facts of the message from its parts.
func (p *mimeParser) finish(b *msgBuilder, h textproto.Header) {
	m := b.m
	m.Text = cleanText(strings.Join(b.texts, "\n\n"))
	if len(b.htmls) > 0 {
		html := strings.Join(b.htmls, "\n")
		m.HTML = sanitizeHTML(html)
		if m.Text == "" {
			m.Text = cleanText(htmlToText(html))
		}
	}
	if isForwardSubject(m.Subject) {
		m.NewText = m.Text
	} else {
		m.NewText = StripQuotes(m.Text)
	}
	m.Auto = detectAuto(h, m, p.opts)
}

// sanitizeFilename keeps the base name of a file name, without control characters, at most
// maxFilename bytes.
func sanitizeFilename(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > maxFilename {
		_, size := lastRune(s)
		s = s[:len(s)-size]
	}
	if s == "." || s == ".." {
		return ""
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0 && i >= len(s)-4; i-- {
		if s[i] < 0x80 || s[i] >= 0xC0 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

func extension(mediaType string) string {
	switch mediaType {
	case "application/pdf":
		return ".pdf"
	case "image/png":
		return ".png"
	case "image/jpeg", "image/jpg", "image/pjpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "text/plain", "message/delivery-status", "message/disposition-notification", "text/rfc822-headers":
		return ".txt"
	case "text/html":
		return ".html"
	case "text/calendar":
		return ".ics"
	case "message/rfc822", "message/global":
		return ".eml"
	case "application/xml", "text/xml":
		return ".xml"
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return ".p7s"
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return ".p7m"
	case "application/ms-tnef", "application/vnd.ms-tnef":
		return ".dat"
	case "application/zip":
		return ".zip"
	}
	return ".bin"
}
