package mailin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

var errNoHeader = errors.New("no header fields")

// splitHeader finds the header block at the start of b and returns it with the body after the
// blank line. It is lenient the way mail clients are: a leading mbox "From " line is skipped, and
// a line that is neither a field nor a continuation ends the header (the body starts there, and
// malformed is set). A header larger than maxBytes or maxLines is an error.
func splitHeader(b []byte, maxBytes, maxLines int) (hdr, body []byte, malformed bool, err error) {
	start := 0
	if bytes.HasPrefix(b, []byte("From ")) {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			start = i + 1
		} else {
			start = len(b)
		}
	}
	pos, lines := start, 0
	for pos < len(b) {
		end := bytes.IndexByte(b[pos:], '\n')
		next := len(b)
		line := b[pos:]
		if end >= 0 {
			line = b[pos : pos+end]
			next = pos + end + 1
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 { // the blank line
			return b[start:pos], b[next:], malformed, nil
		}
		if !validFieldLine(line, pos > start) {
			return b[start:pos], b[pos:], true, nil
		}
		lines++
		if next-start > maxBytes || lines > maxLines {
			return b[start:pos], nil, malformed, fmt.Errorf("header larger than %d bytes or %d lines", maxBytes, maxLines)
		}
		pos = next
	}
	return b[start:], nil, malformed, nil
}

// validFieldLine reports whether line starts a header field ("Key: value") or, after the first
// field, continues one.
func validFieldLine(line []byte, continuationOK bool) bool {
	if line[0] == ' ' || line[0] == '\t' {
		return continuationOK
	}
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	key := bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return false
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// readFields parses a header block found by splitHeader.
func readFields(hdr []byte) (textproto.Header, error) {
	buf := make([]byte, 0, len(hdr)+3)
	buf = append(buf, hdr...)
	if len(buf) > 0 && buf[len(buf)-1] != '\n' {
		buf = append(buf, '\r', '\n')
	}
	buf = append(buf, '\r', '\n')
	return textproto.ReadHeader(bufio.NewReader(bytes.NewReader(buf)))
}

// headerText returns the decoded value of the first field key.
func headerText(h textproto.Header, key string) string {
	return decodeWords(h.Get(key))
}

// decodeWords decodes RFC 2047 encoded words and raw 8-bit text (UTF-8, else Windows-1252) into
// clean UTF-8 without control characters.
func decodeWords(v string) string {
	if v == "" {
		return ""
	}
	if !utf8.ValidString(v) {
		v = fixUTF8([]byte(v))
	}
	if strings.Contains(v, "=?") {
		v = latin1Word.ReplaceAllString(v, "=?windows-1252$2?")
		dec := mime.WordDecoder{CharsetReader: charsetReader}
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
	}
	return cleanLine(v)
}

// cleanLine makes s one line of valid UTF-8: control characters become spaces, runs of spaces
// collapse and the ends are trimmed.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == ' ' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

func addressParser() *mail.AddressParser {
	return &mail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: charsetReader}}
}

// bareAddr finds something shaped like an address in text the strict parser refused.
var bareAddr = regexp.MustCompile(`[^\s<>"(),;:\[\]\\]+@[^\s<>"(),;:\[\]\\]+\.[^\s<>"(),;:\[\]\\]+`)

// parseAddressList parses an address header leniently: the whole list strictly first, then each
// comma-separated piece, then anything address-shaped. Domains are lower-cased.
func parseAddressList(v string) []mail.Address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if !utf8.ValidString(v) {
		v = fixUTF8([]byte(v))
	}
	v = latin1Word.ReplaceAllString(v, "=?windows-1252$2?")
	p := addressParser()
	var out []mail.Address
	if list, err := p.ParseList(v); err == nil {
		for _, a := range list {
			out = appendAddr(out, a)
		}
		return out
	}
	for _, piece := range splitAddressList(v) {
		if a, err := p.Parse(piece); err == nil {
			out = appendAddr(out, a)
			continue
		}
		if m := bareAddr.FindString(piece); m != "" {
			name := strings.TrimSpace(strings.Trim(strings.Replace(piece, m, "", 1), ` <>"'`))
			out = appendAddr(out, &mail.Address{Name: decodeWords(name), Address: m})
		}
	}
	return out
}

func appendAddr(out []mail.Address, a *mail.Address) []mail.Address {
	if len(out) >= maxAddresses || a == nil || a.Address == "" {
		return out
	}
	return append(out, mail.Address{Name: cleanLine(a.Name), Address: normalizeAddress(a.Address)})
}

// normalizeAddress trims an address and lower-cases its domain (local parts are case-sensitive
// in theory; the helpdesk compares them case-insensitively).
func normalizeAddress(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i] + "@" + strings.ToLower(s[i+1:])
	}
	return s
}

// splitAddressList splits on commas and semicolons outside quotes, angle brackets and comments.
func splitAddressList(v string) []string {
	var out []string
	depth, quoted, angle, last := 0, false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case (c == ',' || c == ';') && depth == 0 && !angle:
			out = append(out, v[last:i])
			last = i + 1
		}
		if len(out) >= maxAddresses {
			return out
		}
	}
	return append(out, v[last:])
}

// parseMsgIDs returns the Message-IDs in a Message-ID, In-Reply-To or References value, without
// brackets or folding whitespace. Values without brackets are split on whitespace and only
// address-shaped tokens kept.
func parseMsgIDs(v string) []string {
	var out []string
	if strings.IndexByte(v, '<') >= 0 {
		for {
			i := strings.IndexByte(v, '<')
			if i < 0 {
				break
			}
			j := strings.IndexByte(v[i+1:], '>')
			if j < 0 {
				out = appendID(out, v[i+1:])
				break
			}
			out = appendID(out, v[i+1:i+1+j])
			v = v[i+1+j+1:]
		}
		return out
	}
	for _, f := range strings.Fields(v) {
		if strings.Contains(f, "@") {
			out = appendID(out, f)
		}
	}
	return out
}

func appendID(out []string, id string) []string {
	id = strings.Join(strings.Fields(id), "")
	id = strings.ToValidUTF8(id, "")
	if id == "" || len(id) > maxIDLen {
		return out
	}
	for _, r := range id {
		if r < 0x21 || r == 0x7f || r == '<' || r == '>' {
			return out
		}
	}
	return append(out, id)
}

// firstMsgID returns the first Message-ID in v, or "".
func firstMsgID(v string) string {
	ids := parseMsgIDs(v)
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// trimReferences keeps the first (root) Message-ID and the newest ones, as RFC 5322 suggests
// for long chains.
func trimReferences(ids []string) []string {
	if len(ids) <= maxReferences {
		return ids
	}
	out := append([]string{ids[0]}, ids[len(ids)-maxReferences+1:]...)
	return out
}

var dateComment = regexp.MustCompile(`\([^()]*\)`)

// parseDate reads a Date header; zero when unreadable.
func parseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	v = strings.Join(strings.Fields(dateComment.ReplaceAllString(v, " ")), " ")
	for _, layout := range []string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 MST",
		"2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04 -0700",
		"Mon, 2 Jan 06 15:04:05 -0700",
		"Mon Jan 2 15:04:05 2006",
		"Mon Jan 2 15:04:05 -0700 2006",
		"2006-01-02 15:04:05 -0700",
		time.RFC3339,
	} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}
