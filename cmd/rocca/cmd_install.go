package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/tui"
)

// Exit codes of install and doctor beyond DESIGN.md's 0, 1 and 2 (documented in docs/install.md).
const (
	exitBlocked   = 3 // a preflight check blocked (BLOCCO) and was not skipped with --force
	exitCancelled = 4 // the user stopped the wizard
)

// installOptions are the flags of `rocca install`.
type installOptions struct {
	answers, prefix    string
	dryRun, accessible bool
	forced             []string
}

func (c *cli) cmdInstall(args []string) int {
	fs := c.flags("install", "cli.usage.install")
	var o installOptions
	fs.StringVar(&o.answers, "answers", "", c.t("cli.flag.answers"))
	fs.StringVar(&o.prefix, "prefix", "", c.t("cli.flag.prefix"))
	fs.BoolVar(&o.dryRun, "dry-run", false, c.t("cli.flag.dry_run"))
	fs.BoolVar(&o.accessible, "accessible", false, c.t("cli.flag.accessible"))
	fs.Func("force", c.t("cli.flag.force", strings.Join(installer.CheckIDs(), ", ")), c.addForced(&o.forced))
	fs.Func("lang", c.t("cli.flag.install_lang"), c.setLang)
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(fs, "cli.error.no_args")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.answers != "" {
		return c.installUnattended(ctx, o)
	}
	if !c.stdinIsTerminal() {
		fmt.Fprintln(c.stderr, "rocca: "+c.t("cli.install.no_terminal"))
		return exitUsage
	}
	return c.installInteractive(ctx, o)
}

// addForced accepts --force CHECK, repeated or comma-separated, naming only known checks.
func (c *cli) addForced(forced *[]string) func(string) error {
	return func(v string) error {
		for id := range strings.SplitSeq(v, ",") {
			id = strings.TrimSpace(id)
			if !slices.Contains(installer.CheckIDs(), id) {
				return fmt.Errorf("%s", c.t("cli.install.unknown_check", id, strings.Join(installer.CheckIDs(), ", ")))
			}
			*forced = append(*forced, id)
		}
		return nil
	}
}

// setLang is --lang it|en: the language of every message of the command.
func (c *cli) setLang(v string) error {
	if c.cat.Supported(v) != strings.ToLower(v) {
		return fmt.Errorf("%s", c.t("cli.install.lang_invalid", v))
	}
	c.lang = strings.ToLower(v)
	return nil
}

func (c *cli) stdinIsTerminal() bool {
	f, ok := c.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newInstaller builds the installer for the real machine, under prefix if given. Its log goes to w
// (warnings only): the wizard passes io.Discard, as nothing may write over its screen.
func (c *cli) newInstaller(prefix string, w io.Writer) (*installer.Installer, error) {
	if prefix != "" {
		abs, err := filepath.Abs(prefix)
		if err != nil {
			return nil, err
		}
		prefix = abs
	}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return installer.New(installer.NewHost(), installer.NewPaths(prefix), c.cat, logger)
}

func (c *cli) installInteractive(ctx context.Context, o installOptions) int {
	inst, err := c.newInstaller(o.prefix, io.Discard)
	if err != nil {
		return c.fail(err)
	}
	res, err := tui.Run(ctx, tui.Options{Installer: inst, Lang: c.lang, Forced: o.forced, DryRun: o.dryRun,
		Accessible: o.accessible, Env: c.env, In: c.stdin, Out: c.stdout})
	if err != nil {
		return c.fail(err)
	}
	switch res.Status {
	case tui.Cancelled:
		fmt.Fprintln(c.stderr, c.t("cli.install.cancelled"))
		return exitCancelled
	case tui.Blocked:
		return exitBlocked
	case tui.Failed:
		return exitError
	}
	return exitOK
}

// installUnattended is `rocca install --answers FILE`: no prompts, plain lines, the same checks
// and steps as the wizard. A wrong answer or a blocking check stops it before anything changes.
func (c *cli) installUnattended(ctx context.Context, o installOptions) int {
	inst, err := c.newInstaller(o.prefix, c.stderr)
	if err != nil {
		return c.fail(err)
	}
	a, code, ok := c.loadAnswers(inst, o.answers)
	if !ok {
		return code
	}
	rep := installer.Preflight(ctx, inst.Input(a), o.forced)
	fmt.Fprintln(c.stdout, c.t("cli.install.preflight"))
	rep.WriteText(c.stdout, c.cat, c.lang)
	if blockers := rep.Blockers(); len(blockers) > 0 {
		fmt.Fprintln(c.stderr, c.t("cli.install.blocked", len(blockers), blockerIDs(blockers)))
		return exitBlocked
	}
	plan, err := inst.Plan(ctx, a)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout)
	fmt.Fprintln(c.stdout, c.t("cli.install.plan"))
	installer.WriteChanges(c.stdout, c.cat, c.lang, plan.Changes())
	if o.dryRun {
		fmt.Fprintln(c.stdout, c.t("cli.install.dry_run"))
		return exitOK
	}
	return c.applyPlan(ctx, a, plan)
}

// loadAnswers reads and validates the answers file; on a problem it prints every one, naming file,
// line and key, and says that nothing was changed.
func (c *cli) loadAnswers(inst *installer.Installer, path string) (*installer.Answers, int, bool) {
	a, err := installer.LoadAnswers(path, c.env, inst.Paths)
	var probs *config.Problems
	if errors.As(err, &probs) {
		c.fail(err)
		fmt.Fprintln(c.stderr, c.t("cli.install.nothing_changed"))
		return nil, exitError, false
	}
	if err != nil {
		return nil, c.fail(err), false
	}
	ps := a.Validate(inst.Routes(a.Config.VPN.Interface))
	for _, p := range ps {
		fmt.Fprintln(c.stderr, p.Text(c.cat, c.lang))
	}
	if ps.HasErrors() {
		fmt.Fprintln(c.stderr, c.t("cli.install.nothing_changed"))
		return nil, exitError, false
	}
	return a, 0, true
}

func (c *cli) applyPlan(ctx context.Context, a *installer.Answers, plan *installer.Plan) int {
	fmt.Fprintln(c.stdout)
	err := plan.Apply(ctx, func(ev installer.Event) {
		if ev.State == installer.StepRunning {
			fmt.Fprintln(c.stdout, c.t("cli.install.step", ev.Index+1, ev.Total, ev.Change.Text(c.cat, c.lang)))
		}
	})
	if err != nil {
		fmt.Fprintln(c.stderr, c.t("cli.install.failed", c.message(err)))
		if errors.Is(err, context.Canceled) {
			return exitCancelled
		}
		return exitError
	}
	// An OAuth2 mailbox is signed in after the install: unattended, the summary says how.
	plan.NoteMailSignIns(ctx)
	fmt.Fprintln(c.stdout)
	installer.WriteSummary(c.stdout, c.cat, c.lang, a, plan)
	return exitOK
}

func blockerIDs(rs []installer.Result) string {
	ids := ""
	for i, r := range rs {
		if i > 0 {
			ids += ","
		}
		ids += r.ID
	}
	return ids
}
