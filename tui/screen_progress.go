package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rocca-pa/rocca/installer"
)

// startInstall applies the plan in a goroutine owned by the model: it reports each step on a
// channel the model reads one message at a time, and stops between steps when cancelled.
func (m *model) startInstall() tea.Cmd {
	m.stage = stageInstalling
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	ch := make(chan tea.Msg, 2*len(m.plan.Changes())+2) // never blocks: room for every event
	m.events = ch
	plan, apply := m.plan, m.apply
	go func() {
		defer close(ch)
		err := apply(ctx, plan, func(ev installer.Event) { ch <- progressMsg{ev} })
		ch <- applyDoneMsg{err}
	}()
	m.setContent(m.progressView())
	return m.nextEvent
}

func (m *model) nextEvent() tea.Msg {
	msg, ok := <-m.events
	if !ok {
		return nil
	}
	return msg
}

// stopInstall cancels a running install and waits until its goroutine is gone.
func (m *model) stopInstall() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	for range m.events {
	}
}

func (m *model) applied(err error) (tea.Model, tea.Cmd) {
	m.err = err
	switch {
	case err == nil && !m.stopped && m.needsMailStep():
		return m, m.startMail()
	case err == nil:
		m.status = Done
	case m.stopped && errors.Is(err, context.Canceled):
		m.status = Cancelled
	default:
		m.status = Failed
	}
	return m, tea.Quit
}

func (m *model) progressView() string {
	changes := m.plan.Changes()
	total, done := 0, 0
	for i, c := range changes {
		if c.Changes() {
			total++
			if ev, ok := m.steps[i]; ok && ev.State == installer.StepDone {
				done++
			}
		}
	}
	var b strings.Builder
	b.WriteString(m.th.bold.Render(m.t("tui.progress.title", done, total)) + "\n")
	b.WriteString(m.bar(done, total) + "\n\n")
	for i, c := range changes {
		b.WriteString(ansi.Truncate(m.stepLine(i, c), m.contentWidth()-1, "…") + "\n")
	}
	if m.stopped {
		b.WriteString("\n" + m.th.warn.Render(m.wrap(m.t("tui.progress.stopping"), 0)))
	}
	return b.String()
}

func (m *model) stepLine(i int, c installer.Change) string {
	text := c.Text(m.inst.Cat, m.o.Lang)
	ev, seen := m.steps[i]
	switch {
	case !c.Changes():
		return m.th.subtle.Render(m.th.skipped + " " + text)
	case seen && ev.State == installer.StepFailed:
		return m.th.block.Render(m.th.failed+" "+text) + " " + errorText(m.inst.Cat, m.o.Lang, ev.Err)
	case seen && ev.State == installer.StepDone:
		return m.th.ok.Render(m.th.done) + " " + text
	case seen:
		return m.spin.View() + " " + m.th.bold.Render(text)
	}
	return m.th.subtle.Render(m.th.pending) + " " + text
}

// bar is a progress bar of done out of total steps.
func (m *model) bar(done, total int) string {
	width := min(50, m.contentWidth()-12)
	filled := 0
	if total > 0 {
		filled = width * done / total
	}
	full, empty := "█", "░"
	if m.th.ascii {
		full, empty = "#", "-"
	}
	return m.th.ok.Render(strings.Repeat(full, filled)) + m.th.subtle.Render(strings.Repeat(empty, width-filled)) + fmt.Sprintf(" %d/%d", done, total)
}
