package mailin

import (
	"bytes"
	"fmt"
	"strings"
)

// decodeTransfer undoes a Content-Transfer-Encoding. known is false for an encoding we do not
// know (the bytes are then returned as they are). Quoted-printable is decoded leniently, as mail
// clients do; base64 with a byte outside its alphabet is an error, with what decoded before it.
func decodeTransfer(enc string, b []byte) (out []byte, known bool, err error) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		out, err := decodeBase64(b)
		return out, true, err
	case "quoted-printable":
		return decodeQP(b), true, nil
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return b, true, nil
	default:
		return b, false, nil
	}
}

// isDecodedCopy reports whether decodeTransfer returns fresh memory for enc (rather than a slice
// of its input).
func isDecodedCopy(enc string) bool {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64", "quoted-printable":
		return true
	}
	return false
}

func b64value(c byte) (v byte, ok bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+':
		return 62, true
	case c == '/':
		return 63, true
	}
	return 0, false
}

// decodeBase64 decodes base64 ignoring whitespace and tolerating missing or repeated padding
// (some encoders concatenate padded blocks).
func decodeBase64(in []byte) ([]byte, error) {
	out := make([]byte, 0, len(in)/4*3+3)
	var q [4]byte
	n := 0
	flush := func() error {
		switch n {
		case 1:
			return fmt.Errorf("base64: truncated quantum")
		case 2:
			out = append(out, q[0]<<2|q[1]>>4)
		case 3:
			out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2)
		}
		n = 0
		return nil
	}
	for i, c := range in {
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' {
			continue
		}
		if c == '=' {
			if err := flush(); err != nil {
				return out, err
			}
			continue
		}
		v, ok := b64value(c)
		if !ok {
			return out, fmt.Errorf("base64: invalid byte %#02x at offset %d", c, i)
		}
		q[n] = v
		n++
		if n == 4 {
			out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
			n = 0
		}
	}
	return out, flush()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// decodeQP decodes quoted-printable; a "=" not followed by two hex digits or a line break stays.
func decodeQP(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		j := i + 1
		for j < len(in) && (in[j] == ' ' || in[j] == '\t') {
			j++
		}
		switch {
		case j == len(in): // "=" at the very end: a soft break with nothing after
			return out
		case in[j] == '\n':
			i = j
			continue
		case in[j] == '\r' && j+1 < len(in) && in[j+1] == '\n':
			i = j + 1
			continue
		}
		if i+2 < len(in) {
			hi, ok1 := unhex(in[i+1])
			lo, ok2 := unhex(in[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, '=')
	}
	return out
}

// splitMultipart returns the bodies of the parts of a multipart body. closed is false when the
// closing delimiter is missing (the last part then runs to the end). It stops after maxParts+1
// parts so the caller can report the limit.
func splitMultipart(body []byte, boundary string, maxParts int) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	partStart := -1
	pos := 0
	for pos < len(body) {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		line := body[pos:]
		if end >= 0 {
			line = body[pos : pos+end]
			next = pos + end + 1
		}
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			isClose := bytes.HasPrefix(rest, []byte("--"))
			if isClose {
				rest = rest[2:]
			}
			if len(bytes.Trim(rest, " \t\r")) == 0 {
				if partStart >= 0 {
					parts = append(parts, body[partStart:trimLineBreak(body, partStart, pos)])
				}
				if isClose || len(parts) > maxParts {
					return parts, isClose
				}
				partStart = next
			}
		}
		pos = next
	}
	if partStart >= 0 && partStart <= len(body) {
		parts = append(parts, body[partStart:])
	}
	return parts, false
}

// trimLineBreak returns the end of a part that ends at pos: the line break before a delimiter
// belongs to the delimiter.
func trimLineBreak(body []byte, start, pos int) int {
	if pos > start && body[pos-1] == '\n' {
		pos--
		if pos > start && body[pos-1] == '\r' {
			pos--
		}
	}
	return pos
}

// parseParams parses a Content-Type or Content-Disposition value leniently: unquoted values
// with spaces, RFC 2231 continuations and charsets (any charset, not only UTF-8), duplicate
// parameters (the first wins). The value before the first ";" is returned lower-cased.
func parseParams(v string) (string, map[string]string) {
	pieces := splitParams(v)
	value := strings.ToLower(strings.TrimSpace(pieces[0]))
	params := map[string]string{}
	type ext struct {
		parts   map[int]string
		encoded map[int]bool
	}
	exts := map[string]*ext{}
	for _, p := range pieces[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = unquote(strings.TrimSpace(val))
		if k == "" {
			continue
		}
		base, section, encoded, isExt := splitExtKey(k)
		if !isExt {
			if _, dup := params[k]; !dup {
				params[k] = val
			}
			continue
		}
		e := exts[base]
		if e == nil {
			if len(exts) > 32 {
				continue
			}
			e = &ext{parts: map[int]string{}, encoded: map[int]bool{}}
			exts[base] = e
		}
		if _, dup := e.parts[section]; !dup && len(e.parts) < 256 {
			e.parts[section] = val
			e.encoded[section] = encoded
		}
	}
	for name, e := range exts {
		if s, ok := joinExtended(e.parts, e.encoded); ok {
			params[name] = s // RFC 2231 values win over plain ones
		}
	}
	return value, params
}

// splitParams splits on ";" outside double quotes.
func splitParams(v string) []string {
	var out []string
	quoted, last := false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				out = append(out, v[last:i])
				last = i + 1
			}
		}
		if len(out) > 256 {
			break
		}
	}
	if last <= len(v) {
		out = append(out, v[last:])
	}
	return out
}

func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' {
		return s
	}
	s = s[1:]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			b.WriteByte(s[i])
			continue
		}
		if c == '"' {
			break
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitExtKey recognises RFC 2231 keys: name*, name*N, name*N*.
func splitExtKey(k string) (base string, section int, encoded, ok bool) {
	i := strings.IndexByte(k, '*')
	if i <= 0 {
		return k, 0, false, false
	}
	base, rest := k[:i], k[i+1:]
	if rest == "" {
		return base, 0, true, true
	}
	if strings.HasSuffix(rest, "*") {
		encoded = true
		rest = rest[:len(rest)-1]
	}
	if rest == "" || len(rest) > 3 {
		return k, 0, false, false
	}
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			return k, 0, false, false
		}
		n = n*10 + int(c-'0')
	}
	return base, n, encoded, true
}

// joinExtended joins RFC 2231 sections 0..n and decodes them with the charset of section 0.
func joinExtended(parts map[int]string, encoded map[int]bool) (string, bool) {
	var raw []byte
	label := ""
	for i := 0; i < len(parts); i++ {
		v, ok := parts[i]
		if !ok {
			break
		}
		if !encoded[i] {
			raw = append(raw, v...)
			continue
		}
		if i == 0 {
			cs, rest, ok := strings.Cut(v, "'")
			if ok {
				if _, after, ok := strings.Cut(rest, "'"); ok {
					label, v = cs, after
				}
			}
		}
		raw = append(raw, percentDecode(v)...)
	}
	if len(raw) == 0 {
		return "", false
	}
	s, _ := decodeCharset(label, raw)
	return s, true
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}
