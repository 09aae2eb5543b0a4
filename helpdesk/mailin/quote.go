package mailin

import (
	"regexp"
	"strings"
)

// Markers of quoted history. They are matched only against short lines (attributions and header
// blocks are short), which also bounds the work on hostile input.
var (
	// strongAttribution: the attribution lines of Italian, English, German and French clients:
	// "Il giorno mar 12 mar 2024 alle ore 10:15 Mario <m@x> ha scritto:" (Thunderbird, Gmail),
	// "Il 12/03/2024 10:15, Mario ha scritto:", "Il giorno 12 mar 2024, alle ore 10:15, Mario
	// ha scritto:" (Apple), "On Tue, Mar 12, 2024 at 10:15 AM Mario wrote:", "Am 12.03.2024 um
	// 10:15 schrieb Hans:", "Le 12 mars 2024 à 10:15, Jean a écrit :".
	strongAttribution = regexp.MustCompile(`(?i)^(il|in data|on|am|le)\s.*\s(ha scritto|hanno scritto|wrote|schrieb|a écrit)\s*:$|^am\s.*\sschrieb\s.*:$`)
	// attributionStart: how a strong attribution starts, to try joining it with the next lines
	// when a client wrapped it.
	attributionStart = regexp.MustCompile(`(?i)^(il|in data|on|am|le)\s`)
	// genericAttribution: "<anyone> ha scritto:" / "wrote:" counts only when quoted lines follow.
	genericAttribution = regexp.MustCompile(`(?i)\s(ha scritto|wrote|schrieb|a écrit)\s*:$`)
	// separator: "-----Messaggio originale-----", "-----Original Message-----" and their
	// relatives, and Outlook's line of underscores before the header block.
	separator = regexp.MustCompile(`(?i)^-{2,}\s*(messaggio originale|original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}$|^_{30,}$`)
	// Outlook's header block: "Da:/From:/Von:" followed within a few lines by "Inviato:/Data:/
	// Sent:/Date:/Gesendet:" and "Oggetto:/Subject:/Betreff:".
	blockFrom    = regexp.MustCompile(`(?i)^(da|from|von|de)\s*:\s*\S`)
	blockSent    = regexp.MustCompile(`(?i)^(inviato|data|sent|date|gesendet|datum|envoyé)\s*:`)
	blockSubject = regexp.MustCompile(`(?i)^(oggetto|subject|betreff|objet)\s*:`)
)

const maxMarkerLine = 500 // longer lines are never markers

// StripQuotes returns text without its quoted history, keeping everything above it (the
// signature included):
//   - lines starting with ">" are removed wherever they are, so interleaved answers stay;
//   - an attribution line ("Il giorno … ha scritto:", also wrapped over two or three lines,
//     "Il <date>, <name> ha scritto:", "On … wrote:", "Am … schrieb …:") is removed when quoted
//     lines follow it, and cuts everything from it when unquoted history follows it;
//   - "-----Messaggio originale-----", "-----Original Message-----", a line of 30 or more
//     underscores, and an Outlook header block ("Da: … Inviato: … A: … Oggetto: …", "From: …
//     Sent: … To: … Subject: …", also with "Data:"/"Date:") cut everything from them.
//
// When nothing would remain (the whole message is a quote) the text is returned unchanged.
func StripQuotes(text string) string {
	lines := strings.Split(normalizeNewlines(text), "\n")
	drop := make([]bool, len(lines))
	cut := len(lines)
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, ">") {
			drop[i] = true
			continue
		}
		if t == "" || len(t) > maxMarkerLine {
			continue
		}
		if n, strong := attribution(lines, i); n > 0 {
			if quotedFollows(lines, i+n) {
				for k := i; k < i+n; k++ {
					drop[k] = true
				}
				i += n - 1
				continue
			}
			if strong {
				cut = i
				break
			}
		}
		if separator.MatchString(t) || outlookBlock(lines, i) {
			cut = i
			break
		}
	}
	kept := make([]string, 0, cut)
	for i := 0; i < cut; i++ {
		if !drop[i] {
			kept = append(kept, lines[i])
		}
	}
	out := cleanText(strings.Join(kept, "\n"))
	if strings.TrimSpace(out) == "" {
		return text
	}
	return out
}

// attribution reports whether an attribution starts at line i and how many lines it spans.
func attribution(lines []string, i int) (n int, strong bool) {
	joined := ""
	for n = 1; n <= 3 && i+n-1 < len(lines); n++ {
		t := strings.TrimSpace(lines[i+n-1])
		if t == "" || strings.HasPrefix(t, ">") || len(joined)+len(t) > 2*maxMarkerLine {
			return 0, false
		}
		if joined == "" {
			joined = t
		} else {
			joined += " " + t
		}
		if strongAttribution.MatchString(joined) {
			return n, true
		}
		if genericAttribution.MatchString(joined) {
			return n, false
		}
		if !attributionStart.MatchString(joined) {
			return 0, false
		}
	}
	return 0, false
}

// quotedFollows reports whether the first non-blank line from i on is quoted.
func quotedFollows(lines []string, i int) bool {
	for ; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if t != "" {
			return strings.HasPrefix(t, ">")
		}
	}
	return false
}

// outlookBlock reports whether an Outlook-style header block starts at line i.
func outlookBlock(lines []string, i int) bool {
	if !blockFrom.MatchString(stripStars(lines[i])) {
		return false
	}
	sent, subject := false, false
	seen := 0
	for k := i + 1; k < len(lines) && seen < 7; k++ {
		t := stripStars(lines[k])
		if t == "" {
			continue
		}
		seen++
		if len(t) > maxMarkerLine {
			continue
		}
		sent = sent || blockSent.MatchString(t)
		subject = subject || blockSubject.MatchString(t)
		if sent && subject {
			return true
		}
	}
	return false
}

// stripStars removes the "*" that HTML-to-text converters put around bold labels ("*Da:* …").
func stripStars(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "*") {
		return s
	}
	return strings.Replace(strings.TrimLeft(s, "*"), ":*", ":", 1)
}
