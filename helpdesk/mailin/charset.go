package mailin

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	// The charset package registers itself into message.CharsetReader from its own init (its
	// documented mechanism). We do not rely on that global: we call charset.Reader explicitly from
	// decodeCharset, our own header word decoder and the daticert XML decoder, after mapping the
	// labels we treat differently (ISO-8859-1 and US-ASCII are read as Windows-1252).
	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// decodeCharset converts b, labelled with the MIME charset label, to valid UTF-8. known is false
// when the label is not a charset we know; the text is then our best guess (UTF-8 when valid,
// else Windows-1252).
//
// Mail labelled ISO-8859-1, Latin-1 or US-ASCII is read as Windows-1252, as browsers do (WHATWG
// Encoding): Italian Windows clients put €, “quotes” and – dashes (0x80–0x9F) in mail they label
// ISO-8859-1. Unlabelled or US-ASCII text that is valid UTF-8 is read as UTF-8; UTF-8-labelled text
// that is not UTF-8 at all is read as Windows-1252.
func decodeCharset(label string, b []byte) (s string, known bool) {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if isASCII(b) {
		return stripNUL(string(b)), true
	}
	switch label {
	case "", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us":
		if utf8.Valid(b) {
			return stripNUL(string(b)), true
		}
		return win1252(b), true
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819",
		"iso-ir-100", "csisolatin1", "iso_8859-1:1987", "windows-1252", "cp1252", "x-cp1252", "cp-1252":
		return win1252(b), true
	case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8":
		return fixUTF8(b), true
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		return fixUTF8(b), false
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return fixUTF8(b), false
	}
	return stripNUL(strings.ToValidUTF8(string(out), "\uFFFD")), true
}

// fixUTF8 returns b as UTF-8: unchanged when valid, with U+FFFD for broken bytes when it contains
// real multi-byte sequences, else read as Windows-1252 (a mislabelled single-byte text).
func fixUTF8(b []byte) string {
	if utf8.Valid(b) {
		return stripNUL(string(b))
	}
	if hasMultibyte(b) {
		return stripNUL(strings.ToValidUTF8(string(b), "\uFFFD"))
	}
	return win1252(b)
}

func hasMultibyte(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError && n > 1 {
			return true
		}
		b = b[n:]
	}
	return false
}

func win1252(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil { // cannot happen for a single-byte table; stay safe anyway
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return stripNUL(string(out))
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// stripNUL removes NUL bytes, which SQLite text and HTML handle badly and mail never needs.
func stripNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// charsetReader adapts decodeCharset to mime.WordDecoder and xml.Decoder. It never fails: an
// unknown charset yields the best guess rather than the raw undecoded text.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(io.LimitReader(input, maxHeaderBytes))
	if err != nil {
		return nil, err
	}
	s, _ := decodeCharset(label, b)
	return strings.NewReader(s), nil
}

// latin1Word matches the charset of RFC 2047 encoded words that mime.WordDecoder would decode
// itself (as strict Latin-1 or ASCII); rewriting them to windows-1252 sends them through
// charsetReader, so header words get the same Windows-1252 reading as bodies.
var latin1Word = regexp.MustCompile(`(?i)=\?(iso-8859-1|us-ascii)(\*[a-z0-9-]*)?\?`)
