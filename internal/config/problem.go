package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// Severity separates problems that stop Rocca from starting from those that only deserve attention.
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"   // Load fails
	SeverityWarning Severity = "warning" // Load succeeds; Check reports it
)

// Problem is one thing wrong in a configuration, located as precisely as possible.
type Problem struct {
	Severity Severity
	File     string // the file as named by the caller; "" for defaults and the environment
	Line     int    // 1-based; 0 when the value did not come from a line of the file
	Column   int    // 1-based; 0 when unknown
	Env      string // the ROCCA_* variable the value came from, if any
	Key      string // section.key, e.g. server.tls; "" when the problem is not about one key
	Msg      string // i18n catalog key of the explanation
	Args     []any  // arguments of Msg
}

// Text renders the problem in lang, e.g.
// `rocca.toml:12: server.tls: "sì" is not allowed; use one of off, self-signed, files, acme`.
func (p Problem) Text(cat *i18n.Catalog, lang string) string {
	var b strings.Builder
	switch {
	case p.Env != "":
		b.WriteString(p.Env + ": ")
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File + ": ")
	}
	if p.Severity == SeverityWarning {
		b.WriteString(translate(cat, lang, "config.warning") + ": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(translate(cat, lang, p.Msg, p.Args...))
	return b.String()
}

func translate(cat *i18n.Catalog, lang, key string, args ...any) string {
	if cat == nil {
		// Without a catalog, still say everything we know rather than nothing.
		return strings.TrimSpace(key + " " + fmt.Sprint(args...))
	}
	return cat.T(lang, key, args...)
}

// Problems is every problem found in one configuration, in file order.
type Problems []Problem

// Error renders all problems in English, one per line.
func (ps *Problems) Error() string {
	cat, _ := i18n.New() // nil on failure: translate still prints keys and arguments
	return ps.Text(cat, "en")
}

// Text renders all problems in lang, one per line.
func (ps *Problems) Text(cat *i18n.Catalog, lang string) string {
	lines := make([]string, 0, len(*ps))
	for _, p := range *ps {
		lines = append(lines, p.Text(cat, lang))
	}
	return strings.Join(lines, "\n")
}

// Errors returns the problems of severity error.
func (ps Problems) Errors() Problems { return ps.only(SeverityError) }

// Warnings returns the problems of severity warning.
func (ps Problems) Warnings() Problems { return ps.only(SeverityWarning) }

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool { return len(ps.Errors()) > 0 }

func (ps Problems) only(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// sort puts problems with a line first, by line and column; the others keep their order after them.
func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		aHas, bHas := a.Line > 0, b.Line > 0
		if aHas != bHas {
			if aHas {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}
