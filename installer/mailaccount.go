package installer

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// The mail step of the installer and the mail checks of `rocca doctor` sign in as the running
// server does: the same accounts, from the same keys, over the same database and key file.

// The names of the mail accounts, as cmd/rocca registers them.
const (
	HelpdeskAccount = "helpdesk" // [helpdesk]: the mailbox read over IMAP (and sending, with smtp_auth = "helpdesk")
	SMTPAccount     = "smtp"     // [mail] with a sign-in of its own
)

// MailAccountConfigs returns the mail logins cfg asks for, exactly as `rocca serve` registers them:
// "helpdesk" for the helpdesk mailbox (used for sending too when smtp_auth = "helpdesk"), "smtp"
// for a relay with a sign-in of its own.
func MailAccountConfigs(cfg *config.Config) []mail.AccountConfig {
	h, m := cfg.Helpdesk, cfg.Mail
	conv := func(o config.OAuth2) mail.OAuth2Config {
		return mail.OAuth2Config{Provider: o.Provider, Tenant: o.Tenant, ClientID: o.ClientID, ClientSecretFile: o.ClientSecretFile,
			AuthURL: o.AuthURL, TokenURL: o.TokenURL, DeviceURL: o.DeviceURL, Scopes: o.Scopes}
	}
	var out []mail.AccountConfig
	if h.Enabled && h.IMAPHost != "" || m.SMTPAuth == config.AuthHelpdesk {
		uses := []string{"IMAP"}
		if m.SMTPAuth == config.AuthHelpdesk {
			uses = append(uses, "SMTP")
		}
		out = append(out, mail.AccountConfig{Name: HelpdeskAccount, Uses: uses, User: h.IMAPUser,
			Method: string(h.IMAPAuth), PasswordFile: h.IMAPPasswordFile, OAuth2: conv(h.OAuth2())})
	}
	if m.SMTPHost != "" && m.SMTPAuth != config.AuthHelpdesk && (m.SMTPAuth == config.AuthOAuth2 || m.SMTPUser != "") {
		out = append(out, mail.AccountConfig{Name: SMTPAccount, Uses: []string{"SMTP"}, User: m.SMTPUser,
			Method: string(m.SMTPAuth), PasswordFile: m.SMTPPasswordFile, OAuth2: conv(m.OAuth2())})
	}
	return out
}

// UsesOAuth2 reports whether cfg signs in to a mail server with OAuth2: then the sign-in follows
// the install.
func UsesOAuth2(cfg *config.Config) bool {
	for _, a := range MailAccountConfigs(cfg) {
		if a.Method == mail.MethodOAuth2 {
			return true
		}
	}
	return false
}

// mailAccounts are the mail sign-ins of an installed system, open over its database.
type mailAccounts struct {
	*mail.Accounts
	db *sqlite.DB
}

func (a *mailAccounts) close() { a.db.Close() }

// openMailAccounts opens the mail accounts of cfg over its database. It returns nil, and no error,
// when the database does not exist yet (before the first install): there is no sign-in to use.
func openMailAccounts(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*mailAccounts, error) {
	if !exists(cfg.DatabasePath()) {
		return nil, nil
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return nil, err
	}
	s := mail.NewAccounts(db, mail.AccountsOptions{
		DataDir: cfg.Server.DataDir, PublicURL: cfg.Server.PublicURL, Logger: logger,
		HTTPClient: &http.Client{Timeout: mailTimeout},
	})
	for _, ac := range MailAccountConfigs(cfg) {
		if _, err := s.Add(ctx, ac); err != nil {
			db.Close()
			return nil, fmt.Errorf("mail account %s: %w", ac.Name, err)
		}
	}
	return &mailAccounts{Accounts: s, db: db}, nil
}

// MailSignIn is a sign-in the installer must do, or cannot do from the terminal.
type MailSignIn struct {
	Account     string // HelpdeskAccount or SMTPAccount
	Provider    string // microsoft | google | generic
	DeviceGrant bool   // false: the provider allows no sign-in from a terminal (Google): use WebURL
	WebURL      string // the admin page "Account di posta"
}

// MailSignIns lists the OAuth2 accounts of the installed configuration cfg that are not signed in
// (never, revoked, or unreadable after a restore). It opens the database, so call it after the
// install.
func (in *Installer) MailSignIns(ctx context.Context, cfg *config.Config) ([]MailSignIn, error) {
	if !UsesOAuth2(cfg) {
		return nil, nil
	}
	accts, err := openMailAccounts(ctx, cfg, in.Logger)
	if err != nil || accts == nil {
		return nil, err
	}
	defer accts.close()
	sts, err := accts.Status(ctx)
	if err != nil {
		return nil, err
	}
	var out []MailSignIn
	for _, st := range sts {
		if st.Method == mail.MethodOAuth2 && st.State != mail.StatusReady {
			out = append(out, MailSignIn{Account: st.Name, Provider: st.Provider, DeviceGrant: st.DeviceGrant, WebURL: webSignInURL(cfg)})
		}
	}
	return out, nil
}

// NoteMailSignIns records in the outcome the OAuth2 mail accounts of the installed configuration
// that are still not signed in, for the summary's next steps. Call it after Apply (and after the
// wizard's own sign-in).
func (p *Plan) NoteMailSignIns(ctx context.Context) {
	pending, err := p.inst.MailSignIns(ctx, p.answers.Config)
	if err != nil {
		p.inst.Logger.Warn("mail accounts after the install", "err", err)
	}
	p.Outcome.MailPending = pending
}

func webSignInURL(cfg *config.Config) string { return cfg.Server.PublicURL + "/admin/mail" }

// SignInMail signs account in with the device authorization grant (RFC 8628): show gets the code
// and the page to open, progress every change while Rocca polls the provider (waits, slow_down).
// It returns when the admin approved, refused, the code expired or ctx ended, with an error
// saying what to do. The sign-in is stored where the running server finds it, with the key file
// given to the owner of the data directory.
func (in *Installer) SignInMail(ctx context.Context, cfg *config.Config, account string,
	show func(mail.DeviceCode), progress func(mail.DeviceProgress)) (mail.AccountStatus, error) {
	accts, err := openMailAccounts(ctx, cfg, in.Logger)
	if err != nil {
		return mail.AccountStatus{}, err
	}
	if accts == nil {
		return mail.AccountStatus{}, fmt.Errorf("no database at %s: install first", cfg.DatabasePath())
	}
	defer accts.close()
	st, err := accts.DeviceLogin(ctx, account, show, progress)
	if err != nil {
		return st, err
	}
	// The installer runs as root; the service reads the key as its own user.
	return st, sameOwner(filepath.Join(cfg.Server.DataDir, mail.KeyFileName), cfg.Server.DataDir)
}

// sameOwner gives path the owner of dir.
func sameOwner(path, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Lchown(path, int(st.Uid), int(st.Gid))
}

// CheckMail logs in to the mail servers of an installed configuration as the running server would
// (the imap and smtp checks, as `rocca doctor` runs them): with the password or with the stored
// OAuth2 sign-in, sending and fetching nothing.
func (in *Installer) CheckMail(ctx context.Context, cfg *config.Config) Report {
	ctx, cancel := context.WithTimeout(ctx, 2*mailTimeout+10*time.Second)
	defer cancel()
	return Preflight(ctx, Input{Sys: in.Sys, Config: cfg, Paths: in.Paths, Doctor: true, Logger: in.Logger}, nil, "imap", "smtp")
}
