package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// Options say how to run the wizard.
type Options struct {
	Installer  *installer.Installer
	Lang       string
	Forced     []string // blocking checks the user chose to skip (--force)
	DryRun     bool     // show what would change, change nothing
	Accessible bool     // plain line prompts instead of the full-screen wizard
	Env        []string // TERM, NO_COLOR, LANG…
	In         io.Reader
	Out        io.Writer
}

// Status is how the wizard ended.
type Status int

// The endings; cmd/rocca turns them into exit codes.
const (
	Done      Status = iota // installed, nothing to change, or (dry run) changes listed
	Cancelled               // the user stopped it
	Blocked                 // a blocking check stopped it
	Failed                  // a step failed
)

// Result is the end of a run: the answers and the plan, when the wizard got that far.
type Result struct {
	Status  Status
	Answers *installer.Answers
	Plan    *installer.Plan
	Err     error
	Mail    *MailResult // the mail step after the install, when there was one
}

// Run runs the wizard on the terminal and, once it has left the alternate screen, prints what must
// stay in the scroll-back: the summary, the changes of a dry run, or why it stopped.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Accessible {
		return runAccessible(ctx, o)
	}
	m := newModel(ctx, o)
	final, err := tea.NewProgram(m, append(programOptions(o), tea.WithContext(ctx))...).Run()
	m.stopInstall()
	if err != nil && !errors.Is(err, tea.ErrInterrupted) && !errors.Is(err, tea.ErrProgramKilled) {
		return Result{}, fmt.Errorf("tui: %w", err)
	}
	fm, _ := final.(*model)
	if fm == nil {
		fm = m
	}
	res := fm.result()
	rep := fm.preflight
	if fm.report != nil {
		rep = fm.report
	}
	printAfter(o, res, rep)
	return res, nil
}

func programOptions(o Options) []tea.ProgramOption {
	opts := []tea.ProgramOption{tea.WithInput(o.In), tea.WithOutput(o.Out), tea.WithEnvironment(o.Env)}
	// no-color.org: any non-empty NO_COLOR turns colours off (the detector wants a boolean).
	if noColor(o.Env) {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	return opts
}

func noColor(env []string) bool {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NO_COLOR="); ok && v != "" {
			return true
		}
	}
	return false
}

// printAfter writes to the normal screen what the user needs to keep.
func printAfter(o Options, res Result, pre *installer.Report) {
	cat, lang := o.Installer.Cat, o.Lang
	w := o.Out
	switch res.Status {
	case Done:
		if o.DryRun && res.Plan != nil {
			fmt.Fprintln(w, cat.T(lang, "tui.dry_run.header"))
			installer.WriteChanges(w, cat, lang, res.Plan.Changes())
			fmt.Fprintln(w, cat.T(lang, "tui.dry_run.footer"))
		} else if res.Plan != nil {
			installer.WriteSummary(w, cat, lang, res.Answers, res.Plan)
		}
		if res.Mail != nil {
			fmt.Fprintln(w)
			for _, l := range mailSummary(cat, lang, res.Mail) {
				fmt.Fprintln(w, l)
			}
			if res.Mail.Report != nil {
				res.Mail.Report.WriteText(w, cat, lang)
			}
		}
	case Blocked:
		if pre != nil {
			(&installer.Report{Results: pre.Problems()}).WriteText(w, cat, lang)
		}
		fmt.Fprintln(w, cat.T(lang, "tui.blocked.after"))
	case Failed:
		fmt.Fprintln(w, cat.T(lang, "tui.failed", errorText(cat, lang, res.Err)))
	}
}

// errorText renders err for the user: the catalog message of a rocca.Error, else its text.
func errorText(cat *i18n.Catalog, lang string, err error) string {
	var re *rocca.Error
	if errors.As(err, &re) && re.Key != "" && cat.Has(lang, re.Key) {
		return cat.T(lang, re.Key, re.Args...)
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
