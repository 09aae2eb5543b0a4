package installer

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// Report is the result of a preflight run, in the order of Checks.
type Report struct {
	Results []Result
}

// Worst is the worst status, counting a forced blocker as a warning.
func (r Report) Worst() Status {
	worst := OK
	for _, res := range r.Results {
		s := res.Status
		if res.Forced {
			s = Warning
		}
		if s.rank() > worst.rank() {
			worst = s
		}
	}
	return worst
}

// Blockers returns the blockers that were not forced: any of them stops the install.
func (r Report) Blockers() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == Blocker && !res.Forced {
			out = append(out, res)
		}
	}
	return out
}

// Problems returns the results that are not OK.
func (r Report) Problems() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status != OK {
			out = append(out, res)
		}
	}
	return out
}

// DoctorVersion is the version of the `rocca doctor --json` format (docs/doctor.md). It changes only
// when a field changes meaning or disappears; new fields and checks may be added without a change.
const DoctorVersion = 1

// doctorJSON is the stable shape of `rocca doctor --json`.
type doctorJSON struct {
	Version int         `json:"version"`
	Config  string      `json:"config"`
	Status  Status      `json:"status"`
	Checks  []checkJSON `json:"checks"`
}

type checkJSON struct {
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Forced  bool   `json:"forced,omitempty"`
	Title   string `json:"title"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// WriteJSON writes the report as `rocca doctor --json` prints it, texts in lang.
func (r Report) WriteJSON(w io.Writer, cat *i18n.Catalog, lang, configPath string) error {
	out := doctorJSON{Version: DoctorVersion, Config: configPath, Status: r.Worst(), Checks: []checkJSON{}}
	for _, res := range r.Results {
		out.Checks = append(out.Checks, checkJSON{
			ID: res.ID, Status: res.Status, Forced: res.Forced, Title: res.Title(cat, lang),
			Message: res.Text(cat, lang), Fix: res.FixText(cat, lang),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// WriteText writes the report as plain lines: status, title, explanation and the fix indented.
func (r Report) WriteText(w io.Writer, cat *i18n.Catalog, lang string) {
	for _, res := range r.Results {
		label := res.Status.Label(cat, lang)
		if res.Forced {
			label += " " + cat.T(lang, "installer.status.forced")
		}
		fmt.Fprintf(w, "[%s] %s: %s\n", label, res.Title(cat, lang), res.Text(cat, lang))
		if fix := res.FixText(cat, lang); fix != "" {
			for line := range strings.SplitSeq(fix, "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
}
