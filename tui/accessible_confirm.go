package tui

import (
	"fmt"
	"strings"

	"github.com/rocca-pa/rocca/installer"
)

// confirm checks the answers like the summary screen and asks what to do: install, change the
// answers (again is true), or leave.
func (w *lineWizard) confirm(f *forms) (res Result, again bool) {
	inst, cat, lang := w.o.Installer, w.o.Installer.Cat, w.o.Lang
	m := &model{ctx: w.ctx, o: w.o, inst: inst, f: f}
	c := m.check().(checkedMsg)
	res = Result{Answers: c.a, Plan: c.plan}
	fmt.Fprintf(w.out, "\n%s\n", w.t("tui.summary.title"))
	for _, row := range installer.Describe(cat, lang, c.a) {
		fmt.Fprintf(w.out, "  %s: %s\n", strings.TrimSpace(row[0]), row[1])
	}
	for _, p := range c.probs {
		fmt.Fprintln(w.out, p.Text(cat, lang))
	}
	(&installer.Report{Results: c.rep.Problems()}).WriteText(w.out, cat, lang)
	ok := c.plan != nil && c.err == nil && !c.probs.HasErrors() && len(c.rep.Blockers()) == 0
	if c.err != nil {
		fmt.Fprintln(w.out, w.t("tui.summary.plan_error", errorText(cat, lang, c.err)))
	}
	if ok {
		installer.WriteChanges(w.out, cat, lang, c.plan.Changes())
	}
	return w.decide(res, ok, len(c.rep.Blockers()) > 0)
}

// decide asks i(nstall), m(odify) or e(xit); without a possible install only m or e.
func (w *lineWizard) decide(res Result, canInstall, blocked bool) (Result, bool) {
	key := "tui.accessible.decide"
	if !canInstall {
		key = "tui.accessible.decide_blocked"
	}
	for {
		line, err := w.prompt(w.t(key)+" ", false)
		if err != nil {
			res.Status = Cancelled
			return res, false
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "m":
			return res, true
		case "e", "q":
			res.Status = Cancelled
			if blocked {
				res.Status = Blocked
			}
			return res, false
		case "i", "":
			if canInstall {
				res = w.install(res)
				if res.Status == Done && !w.o.DryRun && installer.UsesOAuth2(res.Answers.Config) {
					w.mailStep(res)
				}
				return res, false
			}
		}
	}
}

// install applies the plan, one line per step; a dry run or a plan without changes ends here.
func (w *lineWizard) install(res Result) Result {
	res.Status = Done
	if w.o.DryRun || !res.Plan.Changed() {
		return res
	}
	err := res.Plan.Apply(w.ctx, func(ev installer.Event) {
		if ev.State == installer.StepRunning {
			fmt.Fprintf(w.out, "[%d/%d] %s\n", ev.Index+1, ev.Total, ev.Change.Text(w.o.Installer.Cat, w.o.Lang))
		}
	})
	if err != nil {
		res.Status, res.Err = Failed, err
	}
	fmt.Fprintln(w.out)
	return res
}
