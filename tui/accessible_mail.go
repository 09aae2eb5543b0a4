package tui

import (
	"context"
	"fmt"
	"time"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/mail"
)

// mailStep is the mail step of the accessible wizard, as plain lines: the device code and the page
// to open, the outcome of the sign-in, then the live login to the mail servers.
func (w *lineWizard) mailStep(res Result) {
	inst, cfg, cat, lang := w.o.Installer, res.Answers.Config, w.o.Installer.Cat, w.o.Lang
	fmt.Fprintf(w.out, "\n%s\n", w.t("tui.mail.title"))
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 30*time.Second)
		defer cancel()
		res.Plan.NoteMailSignIns(ctx)
	}()
	pending, err := inst.MailSignIns(w.ctx, cfg)
	if err != nil {
		fmt.Fprintln(w.out, w.t("tui.mail.failed", installer.HelpdeskAccount, errorText(cat, lang, err)))
		return
	}
	ok := true
	for _, s := range pending {
		if !s.DeviceGrant {
			fmt.Fprintln(w.out, w.t("tui.mail.web_only", s.Account, s.Provider, s.WebURL))
			ok = false
			continue
		}
		slowDowns := 0
		st, err := inst.SignInMail(w.ctx, cfg, s.Account, func(c mail.DeviceCode) {
			fmt.Fprintln(w.out, w.t("tui.mail.open_url", c.Account))
			fmt.Fprintln(w.out, "    "+c.VerificationURI)
			fmt.Fprintln(w.out, w.t("tui.mail.enter_code"))
			fmt.Fprintln(w.out, "    "+c.UserCode)
			if c.VerificationURIComplete != "" {
				fmt.Fprintln(w.out, w.t("tui.mail.open_complete", c.VerificationURIComplete))
			}
			fmt.Fprintln(w.out, w.t("tui.mail.waiting", c.ExpiresAt.Local().Format("15:04")))
		}, func(p mail.DeviceProgress) {
			if p.SlowDowns > slowDowns {
				slowDowns = p.SlowDowns
				fmt.Fprintln(w.out, w.t("tui.mail.slow_down", p.Interval))
			}
		})
		if err != nil {
			ok = false
			fmt.Fprintln(w.out, w.t("tui.mail.failed", s.Account, errorText(cat, lang, err)))
			if hint := mail.Diagnose(mail.MethodOAuth2, err); hint != "" {
				fmt.Fprintln(w.out, "  "+w.t(hint))
			}
			continue
		}
		fmt.Fprintln(w.out, w.t("tui.mail.connected", st.Name, or(st.SignedInAs, st.User)))
	}
	if !ok || w.ctx.Err() != nil {
		fmt.Fprintln(w.out, w.t("tui.mail.done_later"))
		return
	}
	fmt.Fprintln(w.out, w.t("tui.mail.checking"))
	inst.CheckMail(w.ctx, cfg).WriteText(w.out, cat, lang)
}
