package tui

import (
	"strings"

	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/rocca-pa/rocca/installer"
)

// theme holds the styles and marks. Colours are the 16 ANSI ones, which every terminal (and the
// Linux console) has; meaning is always in words too, so NO_COLOR loses nothing.
type theme struct {
	ascii                   bool
	border                  lipgloss.Border
	title, subtle, bold     lipgloss.Style
	ok, warn, block, accent lipgloss.Style
	box                     lipgloss.Style
	done, pending, skipped  string // progress marks
	failed, bullet          string
}

// newTheme picks Unicode or ASCII drawing from the environment: the Linux console and old
// terminals lack box characters.
func newTheme(env []string) theme {
	th := theme{ascii: asciiTerminal(env)}
	th.border = lipgloss.RoundedBorder()
	th.done, th.pending, th.skipped, th.failed, th.bullet = "✓", "·", "=", "✗", "•"
	if th.ascii {
		th.border = lipgloss.ASCIIBorder()
		th.done, th.pending, th.skipped, th.failed, th.bullet = "x", ".", "=", "!", "-"
	}
	th.title = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
	th.subtle = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	th.bold = lipgloss.NewStyle().Bold(true)
	th.ok = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	th.warn = lipgloss.NewStyle().Foreground(lipgloss.Color("3")).Bold(true)
	th.block = lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	th.accent = lipgloss.NewStyle().Foreground(lipgloss.Color("6"))
	th.box = lipgloss.NewStyle().Border(th.border).Padding(0, 1)
	return th
}

// asciiTerminal reports a terminal without box-drawing characters: TERM=linux (the console),
// vt100-like terminals, or a locale that is not UTF-8.
func asciiTerminal(env []string) bool {
	get := func(k string) string {
		for _, kv := range env {
			if name, v, ok := strings.Cut(kv, "="); ok && name == k {
				return v
			}
		}
		return ""
	}
	term := get("TERM")
	if term == "linux" || term == "dumb" || term == "ansi" || strings.HasPrefix(term, "vt") {
		return true
	}
	loc := or(get("LC_ALL"), or(get("LC_CTYPE"), get("LANG")))
	l := strings.ToLower(loc)
	return loc != "" && loc != "C.UTF-8" && !strings.Contains(l, "utf-8") && !strings.Contains(l, "utf8")
}

// badge is the status as a word in a colour, padded so the titles after it line up.
func (th theme) badge(label string, s installer.Status, width int) string {
	text := "[" + label + "]" + strings.Repeat(" ", max(0, width-len([]rune(label))))
	switch s {
	case installer.Warning:
		return th.warn.Render(text)
	case installer.Blocker:
		return th.block.Render(text)
	}
	return th.ok.Render(text)
}

// huh returns the form styles: huh's ANSI theme, with ASCII marks where needed.
func (th theme) huh(isDark bool) *huh.Styles {
	s := huh.ThemeBase16(isDark)
	if !th.ascii {
		return s
	}
	s.Focused.NextIndicator = s.Focused.NextIndicator.SetString("->")
	s.Focused.PrevIndicator = s.Focused.PrevIndicator.SetString("<-")
	s.Focused.SelectedPrefix = s.Focused.SelectedPrefix.SetString("[x] ")
	s.Blurred.SelectedPrefix = s.Blurred.SelectedPrefix.SetString("[x] ")
	s.Focused.Base = s.Focused.Base.BorderStyle(lipgloss.ASCIIBorder())
	s.Focused.Card = s.Focused.Base
	return s
}
