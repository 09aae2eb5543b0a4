package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/mail"
)

// cmdMail is `rocca mail login|status|logout`: the mail accounts of the running server, through
// the admin socket.
func (c *cli) cmdMail(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(c.stderr, c.t("cli.usage.mail"))
		return exitUsage
	}
	switch args[0] {
	case "login":
		return c.mailLogin(args[1:])
	case "status":
		return c.mailStatus(args[1:])
	case "logout":
		return c.mailLogout(args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(c.stdout, c.t("cli.usage.mail"))
		return exitOK
	}
	fmt.Fprintln(c.stderr, c.t("cli.unknown_command", "mail "+args[0]))
	fmt.Fprintln(c.stderr, c.t("cli.usage.mail"))
	return exitUsage
}

// mailDeviceWait is how long one long poll of the server waits for news of a device sign-in.
const mailDeviceWait = 20

// mailLogin signs an OAuth2 account in with the device authorization grant: it prints the URL and
// the code, then waits while the server polls the provider, saying when the provider asks to
// slow down, and ends with the mailbox that signed in or a message saying what to do.
func (c *cli) mailLogin(args []string) int {
	fs := c.flags("mail login", "cli.usage.mail")
	account := fs.String("account", "", c.t("cli.flag.mail_account"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 0 {
		return c.usageError(fs, "cli.error.mail_args")
	}
	cl, err := c.admin()
	if err != nil {
		return c.fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *account == "" {
		name, code, ok := c.onlyOAuthAccount(ctx, fs.Name())
		if !ok {
			return code
		}
		*account = name
	}
	var dc mail.DeviceCode
	if err := cl.Do(ctx, "POST", "/v1/mail/device", mail.DeviceStartRequest{Account: *account}, &dc); err != nil {
		return c.mailFail(err)
	}
	fmt.Fprintln(c.stdout, c.t("cli.mail.open_url", dc.Account, dc.VerificationURI))
	fmt.Fprintln(c.stdout, c.t("cli.mail.enter_code", dc.UserCode))
	if dc.VerificationURIComplete != "" {
		fmt.Fprintln(c.stdout, c.t("cli.mail.open_complete", dc.VerificationURIComplete))
	}
	fmt.Fprintln(c.stdout, c.t("cli.mail.waiting", dc.ExpiresAt.Local().Format("15:04")))

	seen, slowDowns := 0, 0
	for {
		var p mail.DeviceProgress
		path := fmt.Sprintf("/v1/mail/device/%s?seen=%d&wait=%d", url.PathEscape(dc.ID), seen, mailDeviceWait)
		if err := cl.Do(ctx, "GET", path, nil, &p); err != nil {
			if ctx.Err() != nil {
				return c.mailCancelled(dc.ID)
			}
			return c.fail(err)
		}
		seen = p.Updates
		if p.SlowDowns > slowDowns {
			slowDowns = p.SlowDowns
			fmt.Fprintln(c.stdout, c.t("cli.mail.slow_down", p.Interval))
		}
		switch p.State {
		case mail.DeviceConnected:
			who := dc.Account
			if p.Account != nil && p.Account.SignedInAs != "" {
				who = p.Account.SignedInAs
			}
			fmt.Fprintln(c.stdout, c.t("cli.mail.connected", dc.Account, who))
			if p.Account != nil && len(p.Account.Scopes) > 0 {
				fmt.Fprintln(c.stdout, c.t("cli.mail.scopes", strings.Join(p.Account.Scopes, " ")))
			}
			return exitOK
		case mail.DeviceFailed:
			return c.mailFail(&rocca.Error{Code: rocca.EUNAVAILABLE, Message: p.Error, Key: p.ErrorKey, Args: p.ErrorArgs})
		}
		if ctx.Err() != nil {
			return c.mailCancelled(dc.ID)
		}
	}
}

// mailFail reports a failed sign-in and, under it, the usual fix for what the provider said
// (admin consent missing, wrong tenant, an expired secret…).
func (c *cli) mailFail(err error) int {
	code := c.fail(err)
	var re *rocca.Error
	if !errors.As(err, &re) || !strings.HasPrefix(re.Key, "mail.") {
		return code // not the provider's answer (the server is down, a usage error…)
	}
	if hint := mail.Diagnose(mail.MethodOAuth2, err); hint != "" && c.cat.Has(c.lang, hint) {
		fmt.Fprintln(c.stderr, "  "+c.t(hint))
	}
	return code
}

// mailCancelled stops the server's polling after Ctrl-C.
func (c *cli) mailCancelled(id string) int {
	if cl, err := c.admin(); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cl.Do(ctx, "DELETE", "/v1/mail/device/"+url.PathEscape(id), nil, nil)
	}
	fmt.Fprintln(c.stderr, "rocca: "+c.t("cli.mail.cancelled"))
	return exitError
}

// onlyOAuthAccount picks the account to sign in when --account is not given: the only OAuth2 one.
func (c *cli) onlyOAuthAccount(ctx context.Context, cmd string) (string, int, bool) {
	var sts []mail.AccountStatus
	cl, err := c.admin()
	if err == nil {
		err = cl.Do(ctx, "GET", "/v1/mail/accounts", nil, &sts)
	}
	if err != nil {
		return "", c.fail(err), false
	}
	var names []string
	for _, st := range sts {
		if st.Method == mail.MethodOAuth2 {
			names = append(names, st.Name)
		}
	}
	switch len(names) {
	case 0:
		fmt.Fprintln(c.stderr, "rocca: "+c.t("cli.mail.no_oauth"))
		return "", exitError, false
	case 1:
		return names[0], exitOK, true
	}
	fmt.Fprintln(c.stderr, "rocca: "+c.t("cli.error.mail_account", cmd, strings.Join(names, ", ")))
	return "", exitUsage, false
}

// mailStatus lists each account: method, state, mailbox, token expiry and last successful login.
func (c *cli) mailStatus(args []string) int {
	fs := c.flags("mail status", "cli.usage.mail")
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	var sts []mail.AccountStatus
	if code, ok := c.adminDo("GET", "/v1/mail/accounts", nil, &sts); !ok {
		return code
	}
	if *asJSON {
		return c.printJSON(sts)
	}
	if len(sts) == 0 {
		fmt.Fprintln(c.stdout, c.t("cli.mail.no_accounts"))
		return exitOK
	}
	w := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, c.t("cli.mail.status_header"))
	for _, st := range sts {
		method := st.Method
		if st.Provider != "" {
			method += " (" + st.Provider + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Name, method, c.t("cli.mail.state."+st.State),
			mailDash(st.User), mailDash(st.SignedInAs), c.mailWhen(st.TokenExpires), c.mailWhen(st.LastLogin))
	}
	w.Flush()
	for _, st := range sts {
		if st.ProblemKey != "" {
			fmt.Fprintln(c.stdout, st.Name+": "+c.message(&rocca.Error{Message: st.Problem, Key: st.ProblemKey, Args: st.ProblemArgs, Code: rocca.EUNAVAILABLE}))
		} else if st.LastError != "" {
			fmt.Fprintln(c.stdout, c.t("cli.mail.last_error", st.Name, st.LastError))
		}
		if st.Hint != "" && c.cat.Has(c.lang, st.Hint) {
			fmt.Fprintln(c.stdout, "  "+c.t(st.Hint))
		}
	}
	return exitOK
}

// mailLogout forgets the stored sign-in of an account.
func (c *cli) mailLogout(args []string) int {
	fs := c.flags("mail logout", "cli.usage.mail")
	account := fs.String("account", "", c.t("cli.flag.mail_account"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if *account == "" || fs.NArg() != 0 {
		return c.usageError(fs, "cli.error.mail_args")
	}
	if code, ok := c.adminDo("POST", "/v1/mail/accounts/"+url.PathEscape(*account)+"/disconnect", nil, nil); !ok {
		return code
	}
	fmt.Fprintln(c.stdout, c.t("cli.mail.logged_out", *account))
	return exitOK
}

func (c *cli) mailWhen(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("02/01/2006 15:04")
}

func mailDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
