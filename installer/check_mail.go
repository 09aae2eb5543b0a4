package installer

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail"
)

// What the imap and smtp checks share: the state of an OAuth2 sign-in before the live login, and
// a failed login turned into an explanation with the usual fix (mail.Diagnose).

// signedIn opens the mail accounts and returns them when account has a usable sign-in, with the
// mailbox it signed in as. Otherwise it returns nil and the result to report. Before an install the
// database is not touched (the checks change nothing): the sign-in and the live login come after
// the install, so that is a warning. In `rocca doctor` a missing or revoked sign-in is a blocker,
// since the helpdesk can neither read nor send mail.
func signedIn(ctx context.Context, in Input, account string) (*mailAccounts, string, Result) {
	if !in.Doctor {
		ac := accountConfig(in.Config, account)
		r := warn("installer.check.mail.signin_after", account, ac.OAuth2.Provider)
		if !deviceGrant(ac) {
			r = warn("installer.check.mail.signin_web", account, ac.OAuth2.Provider, webSignInURL(in.Config))
		}
		return nil, "", r.signInFix(in, account, deviceGrant(ac))
	}
	accts, err := openMailAccounts(ctx, in.Config, in.logger())
	if err == nil && accts == nil {
		err = errors.New("no database at " + in.Config.DatabasePath())
	}
	if err != nil {
		return nil, "", block("installer.check.mail.accounts", errorText(err)).fix("installer.fix.mail.accounts", in.Config.DatabasePath())
	}
	st, err := accts.AccountStatus(ctx, account)
	if err != nil {
		accts.close()
		return nil, "", block("installer.check.mail.accounts", errorText(err)).fix("installer.fix.mail.accounts", in.Config.DatabasePath())
	}
	if st.State != mail.StatusReady {
		accts.close()
		r := block(st.ProblemKey, st.ProblemArgs...)
		if r.Msg == "" {
			r.Msg, r.Args = "mail.account.error.not_connected", []any{account}
		}
		// A provider's reason that names the cause (an expired secret) comes before signing in again.
		switch hint := mail.Diagnose(mail.MethodOAuth2, &rocca.Error{Message: st.Problem, Key: r.Msg, Args: r.Args}); hint {
		case "", "mail.hint.revoked", "mail.hint.not_connected", "mail.hint.web_only":
			return nil, "", r.signInFix(in, account, st.DeviceGrant)
		default:
			return nil, "", r.fix(hint)
		}
	}
	who := st.User
	if who == "" {
		who = st.SignedInAs
	}
	return accts, who, Result{}
}

// mailFailure explains a failed live login: what the server or the provider said, and the usual
// fix for it. account is "" for a password login.
func mailFailure(in Input, check, method, account string, s mailServer, err error) Result {
	var re *rocca.Error
	var r Result
	if errors.As(err, &re) && strings.HasPrefix(re.Key, "mail.account.error.") {
		// The stored sign-in itself failed during the check (revoked meanwhile): the account's
		// own words say it best.
		r = block(re.Key, re.Args...)
	} else {
		r = block("installer.check."+check+".failed", s.host, s.port, errorText(err))
	}
	hint := mail.Diagnose(method, err)
	switch {
	case method == mail.MethodPassword && isMicrosoft(s.host):
		return r.fix("installer.fix."+check+".microsoft", s.host, s.port)
	case method == mail.MethodPassword && check == "imap" && isPEC(s.host):
		return r.fix("installer.fix.imap.pec_login", s.host, s.port)
	case hint == "mail.hint.revoked" || hint == "mail.hint.not_connected" || hint == "mail.hint.web_only":
		return r.signInFix(in, account, hint != "mail.hint.web_only" && accountDeviceGrant(in.Config, account))
	case hint != "":
		return r.fix(hint)
	}
	return r.fix("installer.fix."+check+".failed", s.host, s.port)
}

// signInFix is the way to sign account in again: `rocca mail login` where the provider allows
// it from a terminal, else the admin page.
func (r Result) signInFix(in Input, account string, device bool) Result {
	if !device {
		return r.fix("installer.fix.mail.signin_web", webSignInURL(in.Config))
	}
	return r.fix("installer.fix.mail.signin", mailLoginCommand(in.Paths, account), webSignInURL(in.Config))
}

// mailLoginCommand is how to run `rocca mail login` for this installation.
func mailLoginCommand(paths Paths, account string) string {
	cmd := "rocca mail login --account " + account
	if paths.Config != "" && paths.Config != NewPaths("").Config {
		cmd = "rocca --config " + paths.Config + " mail login --account " + account
	}
	return cmd
}

// accountConfig returns the configuration of account (zero when cfg has no such account).
func accountConfig(cfg *config.Config, account string) mail.AccountConfig {
	for _, ac := range MailAccountConfigs(cfg) {
		if ac.Name == account {
			return ac
		}
	}
	return mail.AccountConfig{Name: account}
}

// deviceGrant reports whether the provider of ac allows the device grant for mail (Google does not).
func deviceGrant(ac mail.AccountConfig) bool {
	p, err := mail.ProviderFor(ac.OAuth2)
	return err == nil && p.DeviceGrant
}

func accountDeviceGrant(cfg *config.Config, account string) bool {
	return deviceGrant(accountConfig(cfg, account))
}

func (in Input) logger() *slog.Logger {
	if in.Logger != nil {
		return in.Logger
	}
	return slog.New(slog.DiscardHandler)
}
