package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/rocca-pa/rocca/installer"
)

// driver runs the wizard's model in teatest at a fixed size, with a fixed colour profile and a
// spinner that does not move, and types into it as a person would. Between keys it waits for the
// wizard to be where the next key belongs: it asks the running program (through a message filter,
// on the program's own goroutine) rather than sleeping.
type driver struct {
	t  *testing.T
	tm *teatest.TestModel
	m  *model
}

// probeMsg asks the program for a snapshot of the model.
type probeMsg struct{ reply chan snapshot }

type snapshot struct {
	stage     stage
	focused   string // the title of the focused question
	asking    bool
	preflight bool // the system checks are done
	steps     int  // progress events seen
	content   string
}

func start(t *testing.T, o Options, w, h int) *driver {
	t.Helper()
	m := newModel(t.Context(), o)
	m.spin.Spinner = spinner.Spinner{Frames: []string{"*"}, FPS: time.Hour}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ANSI), tea.WithEnvironment(o.Env), tea.WithFilter(probe)))
	t.Cleanup(func() { tm.Quit(); m.stopInstall() })
	return &driver{t: t, tm: tm, m: m}
}

// probe answers probeMsg from inside the program and drops it.
func probe(tm tea.Model, msg tea.Msg) tea.Msg {
	p, ok := msg.(probeMsg)
	if !ok {
		return msg
	}
	m := tm.(*model)
	s := snapshot{stage: m.stage, asking: m.asking, preflight: m.preflight != nil, steps: len(m.steps), content: m.render()}
	if m.stage == stageForm {
		s.focused = m.form.GetFocusedField().GetKey()
	}
	p.reply <- s
	return nil
}

// until polls the model until cond holds.
func (d *driver) until(what string, cond func(snapshot) bool) snapshot {
	d.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last snapshot
	for time.Now().Before(deadline) {
		reply := make(chan snapshot, 1)
		d.tm.Send(probeMsg{reply})
		select {
		case last = <-reply:
			if cond(last) {
				return last
			}
		case <-time.After(5 * time.Second):
		}
		time.Sleep(10 * time.Millisecond) // poll interval, not a wait for something to happen
	}
	d.t.Fatalf("waiting for %s; the screen is:\n%s", what, last.content)
	return last
}

// waitFor waits until the screen shows s.
func (d *driver) waitFor(s string) {
	d.t.Helper()
	d.until(s, func(sn snapshot) bool { return strings.Contains(ansi.Strip(sn.content), s) })
}

// at waits until the question titled title has the focus.
func (d *driver) at(title string) {
	d.t.Helper()
	d.until("question "+title, func(s snapshot) bool { return s.stage == stageForm && s.focused == title })
}

func (d *driver) key(code rune, text string) { d.tm.Send(tea.KeyPressMsg{Code: code, Text: text}) }
func (d *driver) enter()                     { d.key(tea.KeyEnter, "") }
func (d *driver) ctrlC()                     { d.tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}) }

// answer waits for the question, types text (if any) and leaves with Enter.
func (d *driver) answer(title, text string) {
	d.t.Helper()
	d.at(title)
	d.tm.Type(text)
	d.enter()
}

// final stops the program and returns the model as it was.
func (d *driver) final() *model {
	d.t.Helper()
	d.tm.Quit()
	return d.tm.FinalModel(d.t, teatest.WithFinalTimeout(15*time.Second)).(*model)
}

// screen is what the model draws, with colours as a 16-colour terminal shows them.
func screen(m *model) string {
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.ANSI}
	w.WriteString(m.View().Content)
	return b.String()
}

// toQuestions goes past the system checks.
func (d *driver) toQuestions() {
	d.t.Helper()
	d.until("the checks", func(s snapshot) bool { return s.preflight })
	d.enter()
	d.at("Nome del Comune")
}

// toSummary answers every question: the defaults where there are, an admin where there is none.
func (d *driver) toSummary() {
	d.t.Helper()
	d.toQuestions()
	for _, a := range [][2]string{
		{"Nome del Comune", ""}, {"Codice IPA (facoltativo)", ""},
		{"Nome pubblico del server", ""}, {"Certificato HTTPS", ""},
		{"E-mail dell'amministratore", "it@comune.esempio.it"}, {"Nome e cognome", ""},
		{"Password", "una password lunga"}, {"Ripeti la password", "una password lunga"},
		{"Attivare la VPN?", ""}, {"Porta UDP della VPN", ""}, {"Rete interna della VPN", ""}, {"Reti del Comune raggiungibili dalla VPN", ""},
		{"Attivare le riunioni?", ""}, {"Indirizzo IP pubblico", ""}, {"Porta per audio e video (UDP e TCP)", ""},
		{"Configurare ora la casella?", ""},
	} {
		d.answer(a[0], a[1])
	}
	d.until("the summary", func(s snapshot) bool { return s.stage == stageSummary })
}

// holdApply replaces the install with one that reports the first steps and then waits.
func holdApply(m *model) {
	m.apply = func(ctx context.Context, p *installer.Plan, progress func(installer.Event)) error {
		changes := p.Changes()
		for i, c := range changes[:6] {
			progress(installer.Event{Index: i, Total: len(changes), Change: c, State: installer.StepRunning})
			if i < 5 {
				progress(installer.Event{Index: i, Total: len(changes), Change: c, State: installer.StepDone})
			}
		}
		<-ctx.Done()
		return ctx.Err()
	}
}

// checkFits fails when the screen is not exactly w×h.
func checkFits(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := lipglossWidth(l); n > w {
			t.Errorf("line %d is %d wide, more than %d: %q", i, n, w, l)
		}
	}
}

func teaSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
