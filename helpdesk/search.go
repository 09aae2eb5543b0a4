package helpdesk

import (
	"context"
	"strings"
	"unicode"
)

// maxSearchTerms bounds the work one search may ask of FTS5.
const maxSearchTerms = 12

// matchQuery turns what a person typed into an FTS5 query: every word (letters and digits) must
// appear, the last one as a prefix, so a search box never hits FTS5 syntax errors (quotes,
// operators, columns). The tokenizer folds case and accents on both sides, so "perche" finds
// "perché". It returns "" when nothing searchable is left.
func matchQuery(q string) string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxSearchTerms {
		words = words[:maxSearchTerms]
	}
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + w + `"`)
		if i == len(words)-1 {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// Search returns the tickets whose subject, messages, notes or attachment names match q, most
// recently updated first.
func (s *Service) Search(ctx context.Context, q string, limit int) ([]*Ticket, error) {
	return listTickets(ctx, s.db, Filter{Query: q, Limit: limit})
}
