package installer

import (
	"context"
	"log/slog"
	"slices"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// Status is the outcome of a check. The values are part of `rocca doctor --json`.
type Status string

// The statuses, shown as OK, AVVISO and BLOCCO in Italian.
const (
	OK      Status = "ok"      // nothing to do
	Warning Status = "warning" // Rocca works, perhaps less well: read the explanation
	Blocker Status = "blocker" // installing would fail or leave a broken service
)

// rank orders statuses from best to worst.
func (s Status) rank() int { return map[Status]int{OK: 0, Warning: 1, Blocker: 2}[s] }

// Label is the status as shown to people: OK, AVVISO, BLOCCO (or WARNING, BLOCKER).
func (s Status) Label(cat *i18n.Catalog, lang string) string {
	switch s {
	case Warning:
		return cat.T(lang, "installer.status.warning")
	case Blocker:
		return cat.T(lang, "installer.status.blocker")
	}
	return cat.T(lang, "installer.status.ok")
}

// Result is what one check found: a status, an explanation and, unless all is well, a fix the
// user can copy and paste. Msg and Fix are catalog keys.
type Result struct {
	ID      string
	Status  Status
	Msg     string
	Args    []any
	Fix     string // "" when there is nothing to do
	FixArgs []any
	Forced  bool // a blocker the user chose to skip with --force ID
}

// Title is the check's name in lang.
func (r Result) Title(cat *i18n.Catalog, lang string) string {
	key := "installer.check." + r.ID + ".title" // every check has one; a test verifies it
	return cat.T(lang, key)
}

// Text is the explanation in lang.
func (r Result) Text(cat *i18n.Catalog, lang string) string { return cat.T(lang, r.Msg, r.Args...) }

// FixText is the fix in lang, or "".
func (r Result) FixText(cat *i18n.Catalog, lang string) string {
	if r.Fix == "" {
		return ""
	}
	return cat.T(lang, r.Fix, r.FixArgs...)
}

// Input is what the checks look at: the machine, the configuration being installed or in use, and
// passwords typed in the wizard that are not in their files yet.
type Input struct {
	Sys          System
	Config       *config.Config
	Paths        Paths
	Doctor       bool   // checking an installed system: ports held by Rocca are fine, root is not needed
	IMAPPassword string // "" means read helpdesk.imap_password_file
	SMTPPassword string // "" means read mail.smtp_password_file
	// Logger receives what the mail accounts log during a live OAuth2 login; nil discards it.
	Logger *slog.Logger
}

// Check is one preflight check.
type Check struct {
	ID  string
	Run func(ctx context.Context, in Input) Result
}

// Checks returns every check in the order they are shown. The IDs are stable: --force names them
// and `rocca doctor --json` reports them.
func Checks() []Check {
	return []Check{
		{"os", checkOS},
		{"privileges", checkPrivileges},
		{"systemd", checkSystemd},
		{"tun", checkTUN},
		{"wireguard", checkWireGuard},
		{"ports", checkPorts},
		{"firewall", checkFirewall},
		{"time", checkTime},
		{"disk", checkDisk},
		{"memory", checkMemory},
		{"subnet", checkSubnet},
		{"hostname", checkHostname},
		{"imap", checkIMAP},
		{"smtp", checkSMTP},
	}
}

// CheckIDs lists the IDs of Checks, for --force and the docs.
func CheckIDs() []string {
	var ids []string
	for _, c := range Checks() {
		ids = append(ids, c.ID)
	}
	return ids
}

// Preflight runs the checks (all of them when only is empty) and marks the blockers named in forced.
func Preflight(ctx context.Context, in Input, forced []string, only ...string) Report {
	var rep Report
	for _, c := range Checks() {
		if len(only) > 0 && !slices.Contains(only, c.ID) {
			continue
		}
		r := c.Run(ctx, in)
		r.ID = c.ID
		r.Forced = r.Status == Blocker && slices.Contains(forced, c.ID)
		rep.Results = append(rep.Results, r)
	}
	return rep
}

// result builders keep the checks short.
func ok(msg string, args ...any) Result { return Result{Status: OK, Msg: msg, Args: args} }

func warn(msg string, args ...any) Result { return Result{Status: Warning, Msg: msg, Args: args} }

func block(msg string, args ...any) Result { return Result{Status: Blocker, Msg: msg, Args: args} }

// fix adds the copy-paste fix to a result.
func (r Result) fix(key string, args ...any) Result {
	r.Fix, r.FixArgs = key, args
	return r
}
