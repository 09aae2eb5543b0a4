package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rocca-pa/rocca/installer"
)

func (m *model) updatePreflight(msg tea.Msg) (tea.Model, tea.Cmd) {
	key, isKey := msg.(tea.KeyPressMsg)
	if m.preflight == nil {
		return m, nil
	}
	if isKey && key.String() == "enter" {
		if len(m.preflight.Blockers()) > 0 {
			m.status = Blocked
			return m, tea.Quit
		}
		return m, m.startForm()
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return m, cmd
}

func (m *model) preflightView() string {
	var b strings.Builder
	b.WriteString(m.th.bold.Render(m.t("tui.preflight.title")) + "\n")
	if m.installed {
		b.WriteString(m.wrap(m.t("tui.preflight.installed", m.inst.Paths.Config), 0) + "\n")
	}
	b.WriteString("\n" + m.results(m.preflight.Results, false) + "\n\n")
	switch rep := m.preflight; {
	case len(rep.Blockers()) > 0:
		b.WriteString(m.th.block.Render(m.wrap(m.t("tui.preflight.blocked", blockerIDs(rep.Blockers())), 0)))
	case rep.Worst() == installer.Warning:
		b.WriteString(m.wrap(m.t("tui.preflight.warnings"), 0))
	default:
		b.WriteString(m.wrap(m.t("tui.preflight.ok"), 0))
	}
	return b.String()
}

// results renders check results: a badge, the title and the explanation, and under it the fix.
// With onlyProblems the OK ones are left out.
func (m *model) results(rs []installer.Result, onlyProblems bool) string {
	cat, lang := m.inst.Cat, m.o.Lang
	width := 0
	for _, s := range []installer.Status{installer.OK, installer.Warning, installer.Blocker} {
		width = max(width, len([]rune(s.Label(cat, lang))))
	}
	var lines []string
	for _, r := range rs {
		if onlyProblems && r.Status == installer.OK {
			continue
		}
		label := r.Status.Label(cat, lang)
		head := m.th.badge(label, r.Status, width) + " "
		text := m.th.bold.Render(r.Title(cat, lang)) + ": " + r.Text(cat, lang)
		if r.Forced {
			text += " " + cat.T(lang, "installer.status.forced")
		}
		lines = append(lines, hang(head, text, m.contentWidth()-1))
		if fix := r.FixText(cat, lang); fix != "" && r.Status != installer.OK {
			pad := strings.Repeat(" ", width+3)
			for l := range strings.SplitSeq(fix, "\n") {
				lines = append(lines, hang(pad+m.th.accent.Render("> "), l, m.contentWidth()-1))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// hang wraps text to width after head, indenting the following lines under the text.
func hang(head, text string, width int) string {
	hw := ansi.StringWidth(head)
	wrapped := wordWrap(text, max(width-hw, 10))
	lines := strings.Split(wrapped, "\n")
	for i := range lines {
		if i == 0 {
			lines[i] = head + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", hw) + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// wrap wraps text to the content width less indent.
func (m *model) wrap(text string, indent int) string {
	return wordWrap(text, max(m.contentWidth()-1-indent, 10))
}

func blockerIDs(rs []installer.Result) string {
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ",")
}

func hangWidth(s string, w int) string { return wordWrap(s, max(w, 10)) }

// wordWrap breaks lines at spaces only, so that paths and commands with hyphens stay whole for
// copy and paste; a word longer than the width is cut.
func wordWrap(s string, width int) string {
	var out []string
	for para := range strings.SplitSeq(s, "\n") {
		line, lw := "", 0
		for _, word := range strings.Split(para, " ") {
			ww := ansi.StringWidth(word)
			switch {
			case lw == 0:
				line, lw = word, ww
			case lw+1+ww <= width:
				line, lw = line+" "+word, lw+1+ww
			default:
				out = append(out, line)
				line, lw = word, ww
			}
			for lw > width {
				out = append(out, ansi.Truncate(line, width, ""))
				line = ansi.TruncateLeft(line, width, "")
				lw = ansi.StringWidth(line)
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
