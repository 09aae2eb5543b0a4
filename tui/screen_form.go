package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
)

// startForm shows the questions, from the first page, with what was typed so far.
func (m *model) startForm() tea.Cmd {
	m.stage = stageForm
	m.form = m.f.huhForm(m.th)
	m.form.SubmitCmd = func() tea.Msg { return formDoneMsg{} }
	initCmd := m.form.Init()
	_, sizeCmd := m.form.Update(m.formSize())
	return tea.Batch(initCmd, sizeCmd)
}

func (m *model) updateForm(msg tea.Msg) (tea.Model, tea.Cmd) {
	f, cmd := m.form.Update(msg)
	if hf, ok := f.(*huh.Form); ok {
		m.form = hf
	}
	return m, cmd
}

// huhForm turns the pages into a huh form: one group per page, hidden pages skipped.
func (f *forms) huhForm(th theme) *huh.Form {
	pages := f.pages()
	total := 0
	for _, p := range pages {
		if p.hidden == nil {
			total++
		}
	}
	var groups []*huh.Group
	n := 0
	for _, p := range pages {
		if p.hidden == nil {
			n++
		}
		var fields []huh.Field
		for _, q := range p.questions {
			fields = append(fields, f.field(q))
		}
		g := huh.NewGroup(fields...).Title(fmt.Sprintf("%d/%d · %s", n, total, p.title)).Description(p.desc)
		if p.hidden != nil {
			g = g.WithHideFunc(p.hidden)
		}
		groups = append(groups, g)
	}
	return huh.NewForm(groups...).WithTheme(huh.ThemeFunc(th.huh)).WithShowHelp(false)
}

// field is one question as a huh field.
func (f *forms) field(q question) huh.Field {
	switch q.kind {
	case choice:
		opts := make([]huh.Option[string], 0, len(q.options))
		for _, o := range q.options {
			opts = append(opts, huh.NewOption(o.label, o.value))
		}
		return huh.NewSelect[string]().Key(q.title).Title(q.title).Description(q.desc).Options(opts...).Value(q.str)
	case yesNo:
		return huh.NewConfirm().Key(q.title).Title(q.title).Description(q.desc).Affirmative(f.t("tui.yes")).Negative(f.t("tui.no")).Value(q.flag)
	}
	in := huh.NewInput().Key(q.title).Title(q.title).Description(q.desc).Value(q.str).Validate(check(q)).
		Placeholder(f.placeholder(q))
	if len(q.dependsOn) > 0 {
		in = in.PlaceholderFunc(func() string { return f.placeholder(q) }, q.dependsOn)
	}
	if q.kind == secret {
		in = in.EchoMode(huh.EchoModePassword)
	}
	return in
}

// placeholder shows the default, which Enter accepts, or else an example, marked as such.
func (f *forms) placeholder(q question) string {
	if d := q.defaultValue(); d != "" || q.example == "" {
		return d
	}
	return f.t("tui.example", q.example)
}

// check validates what was typed, or the default when nothing was.
func check(q question) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" && q.kind != secret {
			s = q.defaultValue()
		}
		if q.validate == nil {
			return nil
		}
		return q.validate(strings.TrimSpace(s))
	}
}

// formSize is the room the form gets: the body less the lines huh adds below a page when an answer
// is refused (a blank line and the message), so that the message is never cut off on a page taller
// than the screen, which scrolls.
func (m *model) formSize() tea.WindowSizeMsg {
	return tea.WindowSizeMsg{Width: m.contentWidth(), Height: max(m.bodyHeight()-3, 5)}
}
