package mailin

import (
	"regexp"
	"strconv"
	"strings"
)

// Subject prefixes added by mail clients when replying or forwarding, in Italian, English and
// German, case-insensitive, with an optional counter ("Re[2]:", "Re(2):", "Re^2:") and spaces
// before the colon: Re, R, Rif, Risp, I, Inoltra, Inoltro, Inoltrato, Fwd, Fw, AW, WG, Antw. A
// whole run of them ("R: I: Re:") is one match; RE2 keeps the work linear.
const prefixWords = `re|r|rif|risp|i|inoltra|inoltro|inoltrato|fwd|fw|aw|wg|antw`

var (
	prefixRun = regexp.MustCompile(`(?i)^(?:\s*(?:(?:` + prefixWords + `)\s*(?:\[\d{1,4}\]|\(\d{1,4}\)|\^\d{1,4})?\s*[:：]|` + ticketTagExpr + `))+\s*`)
	// forwardFirst: the outermost prefix is a forward.
	forwardFirst = regexp.MustCompile(`(?i)^\s*(?:` + ticketTagExpr + `\s*)?(?:i|inoltra|inoltro|inoltrato|fwd|fw|wg)\s*(?:\[\d{1,4}\]|\(\d{1,4}\)|\^\d{1,4})?\s*[:：]`)
	ticketTag    = regexp.MustCompile(`(?i)` + ticketTagExpr)
)

// ticketTagExpr matches the ticket tags Rocca recognises: "[#123]", "[Ticket #123]" and
// "[Rocca #123]", case-insensitive, spaces allowed around "#" and inside the brackets, 1 to 9
// digits. The helpdesk writes "[#123]"; the other two are accepted because agents and other
// tools type them.
const ticketTagExpr = `\[\s*(?:(?:ticket|rocca)\s*)?#\s*(\d{1,9})\s*\]`

// CleanSubject returns the subject without leading reply/forward prefixes and without ticket
// tags anywhere, with whitespace collapsed. It is for display and search: threading never uses
// subject text, only Message-IDs and the ticket tag.
func CleanSubject(s string) string {
	s = cleanLine(s)
	if loc := prefixRun.FindStringIndex(s); loc != nil {
		s = s[loc[1]:]
	}
	// Removing a tag can join the pieces around it into a new one ("[#[#1]1]"); a few passes
	// undo ordinary nesting while keeping the work linear on hostile subjects.
	for i := 0; i < 4 && ticketTag.MatchString(s); i++ {
		s = ticketTag.ReplaceAllString(s, " ")
	}
	return cleanLine(s)
}

// ParseTicketTag returns the ticket number of the first ticket tag in the subject, 0 if none.
func ParseTicketTag(s string) int {
	m := ticketTag.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// isForwardSubject reports whether the outermost prefix marks a forward ("I:", "Fwd:", "WG:"…).
// The text of a forward is its content, so its quoted-looking parts are kept in NewText.
func isForwardSubject(s string) bool {
	return forwardFirst.MatchString(strings.TrimSpace(s))
}
