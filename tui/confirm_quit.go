package tui

import (
	tea "charm.land/bubbletea/v2"
)

// confirmQuit answers the "really quit?" box that Ctrl+C opens. Before the install nothing was
// changed; during it the running step ends first, and the next run picks up from there.
func (m *model) confirmQuit(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "s", "S", "y", "Y", "ctrl+c":
		m.asking = false
		if m.stage == stageInstalling {
			m.stopped = true
			m.cancel()
			m.setContent(m.progressView())
			return m, nil // applied() quits once the step has ended
		}
		if m.stage == stageMail {
			// Rocca is installed: leaving stops only the sign-in, which can be done later.
			m.cancel()
			return m, tea.Quit
		}
		m.status = Cancelled
		if m.stage == stageSummary && len(m.report.Blockers()) > 0 {
			m.status = Blocked // leaving because a check blocks: say so, and keep the fixes on screen
		}
		return m, tea.Quit
	case "n", "N", "esc", "enter":
		m.asking = false
	}
	return m, nil
}

func (m *model) quitBox() string {
	detail := m.t("tui.quit.nothing_changed")
	switch m.stage {
	case stageInstalling:
		detail = m.t("tui.quit.installing")
	case stageMail:
		detail = m.t("tui.quit.mail")
	}
	text := m.th.bold.Render(m.t("tui.quit.question")) + "\n\n" + m.wrapTo(detail, 50) + "\n\n" + m.t("tui.quit.keys")
	return m.th.box.Render(text)
}

func (m *model) wrapTo(s string, w int) string {
	return hangWidth(s, min(w, m.contentWidth()-6))
}
