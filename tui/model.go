package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
)

// stage is the screen the wizard is on.
type stage int

const (
	stagePreflight  stage = iota // system checks
	stageForm                    // questions
	stageChecking                // answers checked, plan made
	stageSummary                 // confirm
	stageInstalling              // progress
	stageMail                    // OAuth2 sign-in of the mailbox and live login, after the install
)

// stageNames name the stages in message keys (tui.stage.*, tui.help.*).
var stageNames = []string{"preflight", "questions", "checking", "summary", "installing", "mail"}

// systemChecks run before the questions; after them every check runs on the answers.
var systemChecks = []string{"os", "privileges", "systemd", "tun", "wireguard", "time", "disk", "memory"}

// model is the whole wizard. It is a pointer so that the install goroutine's channel and cancel
// function have one owner.
type model struct {
	ctx  context.Context
	o    Options
	inst *installer.Installer
	t    func(key string, args ...any) string
	th   theme
	w, h int

	stage   stage
	asking  bool // the quit confirmation is shown
	stopped bool // the user confirmed quitting during the install: wait for the step to end
	status  Status
	err     error

	preflight *installer.Report
	def       *installer.Answers
	installed bool
	f         *forms
	form      *huh.Form

	answers  *installer.Answers
	problems config.Problems
	report   *installer.Report
	plan     *installer.Plan
	planErr  error

	vp     viewport.Model
	spin   spinner.Model
	steps  map[int]installer.Event
	mail   *mailState // the mail step, once started
	events chan tea.Msg
	cancel context.CancelFunc
	// apply runs the plan; tests replace it to hold the progress screen still.
	apply func(ctx context.Context, p *installer.Plan, progress func(installer.Event)) error
}

// Messages from the commands the model starts.
type (
	preflightMsg struct {
		rep       installer.Report
		def       *installer.Answers
		installed bool
	}
	formDoneMsg struct{}
	checkedMsg  struct {
		a     *installer.Answers
		probs config.Problems
		rep   installer.Report
		plan  *installer.Plan
		err   error
	}
	progressMsg  struct{ ev installer.Event }
	applyDoneMsg struct{ err error }
)

func newModel(ctx context.Context, o Options) *model {
	spin := spinner.New(spinner.WithSpinner(spinner.Dot))
	th := newTheme(o.Env)
	if th.ascii {
		spin.Spinner = spinner.Line
	}
	m := &model{ctx: ctx, o: o, inst: o.Installer, th: th, w: 80, h: 24, spin: spin, steps: map[int]installer.Event{},
		status: Cancelled} // until something else is known: a killed program changed nothing it reports
	m.t = func(key string, args ...any) string { return o.Installer.Cat.T(o.Lang, key, args...) }
	m.apply = func(ctx context.Context, p *installer.Plan, progress func(installer.Event)) error {
		return p.Apply(ctx, progress)
	}
	m.vp = viewport.New()
	m.resize(m.w, m.h)
	return m
}

func (m *model) Init() tea.Cmd {
	return tea.Batch(m.spin.Tick, m.runPreflight)
}

func (m *model) runPreflight() tea.Msg {
	def, installed := m.inst.Defaults(m.ctx)
	rep := installer.Preflight(m.ctx, m.inst.Input(def), m.o.Forced, systemChecks...)
	return preflightMsg{rep: rep, def: def, installed: installed}
}

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return m, m.resize(msg.Width, msg.Height)
	case tea.KeyPressMsg:
		if m.asking {
			return m.confirmQuit(msg)
		}
		if msg.String() == "ctrl+c" {
			m.asking = true
			return m, nil
		}
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		if m.stage == stageMail && !m.mail.done {
			m.setContent(m.mailView()) // the wait for the approval may last minutes: keep it moving
		}
		return m, cmd
	case preflightMsg:
		m.preflight, m.def, m.installed = &msg.rep, msg.def, msg.installed
		m.f = &forms{t: m.t, def: msg.def, v: newValues(msg.def), paths: m.inst.Paths}
		m.setContent(m.preflightView())
		return m, nil
	case formDoneMsg:
		m.stage = stageChecking
		return m, m.check
	case checkedMsg:
		return m.checked(msg)
	case progressMsg:
		m.steps[msg.ev.Index] = msg.ev
		m.setContent(m.progressView())
		return m, m.nextEvent
	case applyDoneMsg:
		return m.applied(msg.err)
	case mailCodeMsg, mailProgressMsg, mailSignedMsg, mailWebMsg, mailCheckMsg, mailCheckedMsg, mailDoneMsg:
		return m.updateMailMsg(msg)
	}
	return m.updateStage(msg)
}

// updateStage passes other messages (keys above all) to the current screen.
func (m *model) updateStage(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch m.stage {
	case stagePreflight:
		return m.updatePreflight(msg)
	case stageForm:
		return m.updateForm(msg)
	case stageSummary:
		return m.updateSummary(msg)
	case stageMail:
		return m.updateMail(msg)
	}
	return m, nil
}

// resize lays the screens out for a terminal of w×h; the form gets the body's size.
func (m *model) resize(w, h int) tea.Cmd {
	m.w, m.h = max(w, 20), max(h, 8)
	m.vp.SetWidth(m.w)
	m.vp.SetHeight(m.bodyHeight())
	switch m.stage {
	case stagePreflight:
		if m.preflight != nil {
			m.setContent(m.preflightView())
		}
	case stageSummary:
		m.setContent(m.summaryView())
	case stageInstalling:
		m.setContent(m.progressView())
	case stageMail:
		m.setContent(m.mailView())
	case stageForm:
		_, cmd := m.form.Update(m.formSize())
		return cmd
	}
	return nil
}

// The frame: a header line and a rule, the body, a rule and a help line.
func (m *model) bodyHeight() int   { return m.h - 4 }
func (m *model) contentWidth() int { return m.w - 2 }

// setContent fills the scrolling body, wrapped to the width, keeping the position when it can.
func (m *model) setContent(s string) {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = " " + l
	}
	m.vp.SetContent(strings.Join(lines, "\n"))
}

func (m *model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = m.t("tui.window_title")
	return v
}

func (m *model) render() string {
	body := m.body()
	if m.asking {
		body = lipgloss.Place(m.w, m.bodyHeight(), lipgloss.Center, lipgloss.Center, m.quitBox())
	}
	return strings.Join([]string{m.header(), m.rule(), fit(body, m.w, m.bodyHeight()), m.rule(), m.footer()}, "\n")
}

func (m *model) body() string {
	switch {
	case m.stage == stagePreflight && m.preflight == nil:
		return " " + m.spin.View() + " " + m.t("tui.preflight.running")
	case m.stage == stageChecking:
		return " " + m.spin.View() + " " + m.t("tui.checking")
	case m.stage == stageForm:
		return indent(m.form.View())
	}
	return m.vp.View()
}

func (m *model) header() string {
	left := m.th.title.Render(" " + m.t("tui.title"))
	right := m.th.subtle.Render(m.t("tui.stage."+stageNames[m.stage]) + " ")
	gap := m.w - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return ansi.Truncate(left, m.w, "")
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *model) rule() string {
	return m.th.subtle.Render(strings.Repeat(m.th.border.Top, m.w))
}

func (m *model) footer() string {
	key := "tui.help." + stageNames[m.stage]
	switch {
	case m.asking:
		key = "tui.help.confirm"
	case m.stage == stagePreflight && m.preflight != nil && len(m.preflight.Blockers()) > 0:
		key = "tui.help.blocked"
	case m.stage == stageSummary && !m.canInstall():
		key = "tui.help.summary_blocked"
	case m.stage == stageSummary && (m.o.DryRun || !m.plan.Changed()):
		key = "tui.help.summary_exit"
	case m.stage == stageMail && m.mail.done:
		key = "tui.help.mail_done"
	}
	return m.th.subtle.Render(ansi.Truncate(" "+m.t(key), m.w, "…"))
}

// fit pads or cuts s to exactly h lines no wider than w, so the footer stays at the bottom.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = " " + l
	}
	return strings.Join(lines, "\n")
}

// result is how the run ended, for Run.
func (m *model) result() Result {
	res := Result{Status: m.status, Answers: m.answers, Plan: m.plan, Err: m.err}
	if m.mail != nil {
		res.Mail = &m.mail.res
	}
	return res
}
