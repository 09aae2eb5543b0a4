package tui

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail"
)

// The mail step: after the install, an OAuth2 mailbox is signed in right there with the device
// grant (the code and the page to open are shown; Rocca polls the provider, slowing down when
// asked, until the admin approves, refuses or the code expires), and then a live login to the IMAP
// and SMTP servers proves it works. Google allows no sign-in from a terminal: the screen says to
// use the web page instead.

// MailResult is how the mail step ended, for the summary left in the terminal.
type MailResult struct {
	Signed []mail.AccountStatus   // accounts signed in now
	Failed []MailFailure          // sign-ins that did not succeed
	Web    []installer.MailSignIn // accounts to sign in from the web page
	Report *installer.Report      // the live login, when every account was signed in
}

// MailFailure is a sign-in that did not succeed, and why.
type MailFailure struct {
	Account string
	Err     error
}

// The messages of the mail step's goroutine.
type (
	mailCodeMsg     struct{ code mail.DeviceCode }
	mailProgressMsg struct{ p mail.DeviceProgress }
	mailSignedMsg   struct {
		account string
		st      mail.AccountStatus
		err     error
	}
	mailWebMsg     struct{ s installer.MailSignIn }
	mailCheckMsg   struct{}
	mailCheckedMsg struct{ rep installer.Report }
	mailDoneMsg    struct{}
)

// mailState is what the mail step shows.
type mailState struct {
	res      MailResult
	code     *mail.DeviceCode // the code being approved, until its sign-in ends
	progress mail.DeviceProgress
	checking bool
	done     bool
}

// needsMailStep reports whether the installed configuration signs in to mail with OAuth2.
func (m *model) needsMailStep() bool {
	return !m.o.DryRun && m.answers != nil && installer.UsesOAuth2(m.answers.Config)
}

// startMail runs the mail step in a goroutine owned by the model, like the install: its events
// come one at a time on m.events, and stopInstall cancels it and waits for it.
func (m *model) startMail() tea.Cmd {
	m.stage, m.status = stageMail, Done // Rocca is installed, whatever happens to the sign-in
	m.mail = &mailState{}
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	ch := make(chan tea.Msg, 8)
	m.events = ch
	inst, cfg, plan := m.inst, m.answers.Config, m.plan
	go func() {
		defer close(ch)
		ok := signInMail(ctx, inst, cfg, ch)
		if ok && ctx.Err() == nil {
			ch <- mailCheckMsg{}
			ch <- mailCheckedMsg{inst.CheckMail(ctx, cfg)}
		}
		// What is still to sign in goes into the summary, also after a cancel.
		nctx, ncancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		plan.NoteMailSignIns(nctx)
		ncancel()
		ch <- mailDoneMsg{}
	}()
	m.setContent(m.mailView())
	return m.nextEvent
}

// signInMail signs in every OAuth2 account that needs it, reporting on ch; it returns true when
// all are signed in.
func signInMail(ctx context.Context, inst *installer.Installer, cfg *config.Config, ch chan<- tea.Msg) bool {
	pending, err := inst.MailSignIns(ctx, cfg)
	if err != nil {
		ch <- mailSignedMsg{account: installer.HelpdeskAccount, err: err}
		return false
	}
	ok := true
	for _, s := range pending {
		if !s.DeviceGrant {
			ch <- mailWebMsg{s}
			ok = false
			continue
		}
		st, err := inst.SignInMail(ctx, cfg, s.Account,
			func(dc mail.DeviceCode) { ch <- mailCodeMsg{dc} },
			func(p mail.DeviceProgress) { ch <- mailProgressMsg{p} })
		ch <- mailSignedMsg{account: s.Account, st: st, err: err}
		ok = ok && err == nil
	}
	return ok
}

func (m *model) updateMailMsg(msg tea.Msg) (tea.Model, tea.Cmd) {
	st := m.mail
	switch msg := msg.(type) {
	case mailCodeMsg:
		st.code, st.progress = &msg.code, mail.DeviceProgress{}
	case mailProgressMsg:
		st.progress = msg.p
	case mailSignedMsg:
		st.code = nil
		if msg.err != nil {
			st.res.Failed = append(st.res.Failed, MailFailure{Account: msg.account, Err: msg.err})
		} else {
			st.res.Signed = append(st.res.Signed, msg.st)
		}
	case mailWebMsg:
		st.res.Web = append(st.res.Web, msg.s)
	case mailCheckMsg:
		st.checking = true
	case mailCheckedMsg:
		st.checking, st.res.Report = false, &msg.rep
	case mailDoneMsg:
		st.done = true
		m.setContent(m.mailView())
		return m, nil
	}
	m.setContent(m.mailView())
	return m, m.nextEvent
}

func (m *model) updateMail(msg tea.Msg) (tea.Model, tea.Cmd) {
	if key, ok := msg.(tea.KeyPressMsg); ok && key.String() == "enter" && m.mail.done {
		return m, tea.Quit
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return m, cmd
}

func (m *model) mailView() string {
	st, w := m.mail, m.contentWidth()-1
	var b strings.Builder
	b.WriteString(m.th.bold.Render(m.t("tui.mail.title")) + "\n\n")
	for _, s := range st.res.Signed {
		b.WriteString(hang(m.th.ok.Render(m.th.done)+" ", m.t("tui.mail.connected", s.Name, or(s.SignedInAs, s.User)), w) + "\n")
	}
	for _, f := range st.res.Failed {
		b.WriteString(hang(m.th.block.Render(m.th.failed)+" ", m.t("tui.mail.failed", f.Account, errorText(m.inst.Cat, m.o.Lang, f.Err)), w) + "\n")
		if hint := mail.Diagnose(mail.MethodOAuth2, f.Err); hint != "" {
			b.WriteString(hang("  "+m.th.accent.Render("> "), m.t(hint), w) + "\n")
		}
	}
	for _, s := range st.res.Web {
		b.WriteString(hang(m.th.warn.Render("!")+" ", m.t("tui.mail.web_only", s.Account, s.Provider, s.WebURL), w) + "\n")
	}
	if c := st.code; c != nil {
		b.WriteString(m.codeView(c) + "\n")
	}
	if st.checking {
		b.WriteString("\n" + m.spin.View() + " " + m.t("tui.mail.checking") + "\n")
	}
	if st.res.Report != nil {
		b.WriteString("\n" + m.results(st.res.Report.Results, false) + "\n")
	}
	if st.done {
		b.WriteString("\n" + m.th.bold.Render(m.wrap(m.mailEnd(), 0)))
	}
	return b.String()
}

// codeView shows what to open and type, and how long the code lasts.
func (m *model) codeView(c *mail.DeviceCode) string {
	w := m.contentWidth() - 1
	lines := []string{
		m.wrap(m.t("tui.mail.open_url", c.Account), 0),
		"    " + m.th.accent.Render(c.VerificationURI),
		m.wrap(m.t("tui.mail.enter_code"), 0),
		"    " + m.th.bold.Render(c.UserCode),
	}
	if c.VerificationURIComplete != "" {
		lines = append(lines, hang("", m.t("tui.mail.open_complete", c.VerificationURIComplete), w))
	}
	lines = append(lines, "", hang(m.spin.View()+" ", m.t("tui.mail.waiting", c.ExpiresAt.Local().Format("15:04")), w))
	if p := m.mail.progress; p.SlowDowns > 0 {
		lines = append(lines, hang("  ", m.t("tui.mail.slow_down", p.Interval), w))
	}
	return strings.Join(lines, "\n")
}

// mailEnd says how the mail step ended.
func (m *model) mailEnd() string {
	res := m.mail.res
	switch {
	case res.Report != nil && res.Report.Worst() == installer.OK:
		return m.t("tui.mail.done_ok")
	case res.Report != nil:
		return m.t("tui.mail.done_problems")
	}
	return m.t("tui.mail.done_later")
}

// mailSummary is the mail step's outcome for the terminal's scroll-back.
func mailSummary(cat *i18n.Catalog, lang string, r *MailResult) []string {
	t := func(key string, args ...any) string { return cat.T(lang, key, args...) }
	lines := []string{t("tui.mail.title")}
	for _, s := range r.Signed {
		lines = append(lines, "  "+t("tui.mail.connected", s.Name, or(s.SignedInAs, s.User)))
	}
	for _, f := range r.Failed {
		lines = append(lines, "  "+t("tui.mail.failed", f.Account, errorText(cat, lang, f.Err)))
		if hint := mail.Diagnose(mail.MethodOAuth2, f.Err); hint != "" {
			lines = append(lines, "    "+t(hint))
		}
	}
	for _, s := range r.Web {
		lines = append(lines, "  "+t("tui.mail.web_only", s.Account, s.Provider, s.WebURL))
	}
	return lines
}
