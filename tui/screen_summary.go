package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rocca-pa/rocca/installer"
)

// check validates the answers, runs every check on them and makes the plan (changing nothing).
func (m *model) check() tea.Msg {
	a := m.f.answers()
	msg := checkedMsg{a: a, probs: a.Validate(m.inst.Routes(a.Config.VPN.Interface))}
	msg.rep = installer.Preflight(m.ctx, m.inst.Input(a), m.o.Forced)
	if !msg.probs.HasErrors() {
		msg.plan, msg.err = m.inst.Plan(m.ctx, a)
	}
	return msg
}

func (m *model) checked(msg checkedMsg) (tea.Model, tea.Cmd) {
	m.answers, m.problems, m.report, m.plan, m.planErr = msg.a, msg.probs, &msg.rep, msg.plan, msg.err
	m.stage = stageSummary
	m.setContent(m.summaryView())
	m.vp.GotoTop()
	return m, nil
}

// canInstall: no wrong answer, no blocking check, and a plan.
func (m *model) canInstall() bool {
	return m.plan != nil && m.planErr == nil && !m.problems.HasErrors() && len(m.report.Blockers()) == 0
}

func (m *model) updateSummary(msg tea.Msg) (tea.Model, tea.Cmd) {
	if key, ok := msg.(tea.KeyPressMsg); ok {
		switch key.String() {
		case "enter":
			return m.confirm()
		case "m", "M", "shift+tab", "e":
			return m, m.startForm()
		}
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return m, cmd
}

// confirm installs, or ends at once for a dry run or a plan that changes nothing.
func (m *model) confirm() (tea.Model, tea.Cmd) {
	if !m.canInstall() {
		return m, nil
	}
	if m.o.DryRun || !m.plan.Changed() {
		if m.needsMailStep() {
			return m, m.startMail() // nothing to install, but the mailbox may still need its sign-in
		}
		m.status = Done
		return m, tea.Quit
	}
	return m, m.startInstall()
}

func (m *model) summaryView() string {
	cat, lang := m.inst.Cat, m.o.Lang
	var b strings.Builder
	b.WriteString(m.th.bold.Render(m.t("tui.summary.title")) + "\n\n")
	if m.plan != nil && !m.plan.Changed() {
		// A re-run with the same answers: say so first, not below the fold.
		b.WriteString(m.th.ok.Render(m.wrap(m.t("tui.summary.no_change"), 0)) + "\n\n")
	}
	rows := installer.Describe(cat, lang, m.answers)
	lw := 0
	for _, r := range rows {
		lw = max(lw, ansi.StringWidth(r[0]))
	}
	for _, r := range rows {
		b.WriteString(hang(fmt.Sprintf("%-*s  ", lw, r[0]), r[1], m.contentWidth()-1) + "\n")
	}
	if len(m.problems) > 0 {
		b.WriteString("\n" + m.th.bold.Render(m.t("tui.summary.problems")) + "\n")
		for _, p := range m.problems {
			b.WriteString(hang(m.th.bullet+" ", p.Text(cat, lang), m.contentWidth()-1) + "\n")
		}
	}
	b.WriteString("\n" + m.checksLine() + "\n")
	if probs := m.report.Problems(); len(probs) > 0 {
		b.WriteString(m.results(probs, true) + "\n")
	}
	b.WriteString("\n" + m.changesView() + "\n\n")
	b.WriteString(m.th.bold.Render(m.wrap(m.summaryAction(), 0)))
	return b.String()
}

// checksLine counts the results: "Controlli: 12 OK, 2 AVVISO, 0 BLOCCO".
func (m *model) checksLine() string {
	n := map[installer.Status]int{}
	for _, r := range m.report.Results {
		n[r.Status]++
	}
	return m.th.bold.Render(m.t("tui.summary.checks", n[installer.OK], n[installer.Warning], n[installer.Blocker]))
}

func (m *model) changesView() string {
	switch {
	case m.planErr != nil:
		return m.th.block.Render(m.wrap(m.t("tui.summary.plan_error", errorText(m.inst.Cat, m.o.Lang, m.planErr)), 0))
	case m.plan == nil:
		return ""
	case !m.plan.Changed():
		return ""
	}
	var lines []string
	count := 0
	for _, c := range m.plan.Changes() {
		if c.Changes() {
			count++
			lines = append(lines, hang("  "+m.th.bullet+" ", c.Text(m.inst.Cat, m.o.Lang), m.contentWidth()-1))
		}
	}
	return m.th.bold.Render(m.t("tui.summary.changes", count)) + "\n" + strings.Join(lines, "\n")
}

// summaryAction says what Enter does here.
func (m *model) summaryAction() string {
	switch {
	case !m.canInstall():
		return m.t("tui.summary.cannot_install", strings.Join(m.blockedBy(), ","))
	case m.o.DryRun:
		return m.t("tui.summary.dry_run")
	case !m.plan.Changed():
		return m.t("tui.summary.enter_exit")
	}
	return m.t("tui.summary.enter_install")
}

func (m *model) blockedBy() []string {
	var ids []string
	for _, r := range m.report.Blockers() {
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		ids = append(ids, "-")
	}
	return ids
}
