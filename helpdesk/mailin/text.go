package mailin

import (
	"strings"
)

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// unflow decodes RFC 3676 format=flowed text: a line ending in a space continues on the next
// line of the same quote depth; space-stuffing is removed.
func unflow(s string, delsp bool) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	b.Grow(len(s))
	open := false // the previous line was flowed and waits for its continuation
	openDepth := 0
	for _, line := range lines {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		content := line[depth:]
		if strings.HasPrefix(content, " ") {
			content = content[1:] // space-stuffing (or the space after ">")
		}
		if open && depth != openDepth {
			b.WriteByte('\n')
			open = false
		}
		if !open {
			if depth > 0 {
				b.WriteString(strings.Repeat(">", depth) + " ")
			}
		}
		flowed := strings.HasSuffix(content, " ") && content != "-- "
		if flowed && delsp {
			content = content[:len(content)-1]
		}
		b.WriteString(content)
		if flowed {
			open, openDepth = true, depth
			continue
		}
		open = false
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// cleanText normalises a body for storage and display: LF line ends, no control characters but
// tabs, no trailing spaces, at most one blank line in a row, no blank lines at the ends.
func cleanText(s string) string {
	s = normalizeNewlines(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f || r == '\uFEFF':
			return -1
		case r == '\u00a0':
			return ' '
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		if l != "-- " { // the signature delimiter keeps its space
			l = strings.TrimRight(l, " \t")
		}
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}
