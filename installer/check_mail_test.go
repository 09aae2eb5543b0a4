package installer

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// mailEnv is an installed system whose helpdesk mailbox signs in with OAuth2 at the test's own
// provider, reading over IMAP from imapPort and sending through an XOAUTH2 relay.
type mailEnv struct {
	p     *oauthtest.Provider
	relay *oauthtest.Relay
	inst  *Installer
	cfg   *config.Config
}

func newMailEnv(t *testing.T, imapPort int) *mailEnv {
	t.Helper()
	p := oauthtest.New(t)
	e := &mailEnv{p: p, relay: p.Relay(t), cfg: testConfig(filepath.Join(t.TempDir(), "data"))}
	h, m := &e.cfg.Helpdesk, &e.cfg.Mail
	h.Address, h.IMAPHost, h.IMAPPort, h.IMAPSecurity, h.IMAPUser = p.Email, "127.0.0.1", imapPort, config.SecurityNone, p.Email
	h.IMAPAuth, h.OAuth2Provider, h.OAuth2ClientID = config.AuthOAuth2, config.OAuth2Generic, oauthtest.ClientID
	h.OAuth2AuthURL, h.OAuth2TokenURL, h.OAuth2DeviceURL, h.OAuth2Scopes = p.AuthURL(), p.TokenURL(), p.DeviceURL(), []string{"mail", "offline_access"}
	m.SMTPHost, m.SMTPPort, m.SMTPSecurity, m.SMTPAuth = "127.0.0.1", e.relay.Port, config.SecurityNone, config.AuthHelpdesk
	e.inst = &Installer{Sys: goodSys(), Paths: NewPaths(""), Cat: testCatalog(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return e
}

// install creates the database as the install's database step does.
func (e *mailEnv) install(t *testing.T) {
	t.Helper()
	os.MkdirAll(e.cfg.Server.DataDir, 0o750)
	db, err := sqlite.Open(context.Background(), e.cfg.DatabasePath())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background(), migrations()...); err != nil {
		t.Fatal(err)
	}
}

// signIn runs the installer's device sign-in, approving the code at the provider as soon as it is shown.
func (e *mailEnv) signIn(t *testing.T) mail.AccountStatus {
	t.Helper()
	st, err := e.inst.SignInMail(context.Background(), e.cfg, HelpdeskAccount,
		func(dc mail.DeviceCode) { e.p.ApproveDevice(dc.UserCode) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *mailEnv) check(t *testing.T, id string, doctor bool) Result {
	t.Helper()
	rep := Preflight(context.Background(), Input{Sys: e.inst.Sys, Config: e.cfg, Paths: e.inst.Paths, Doctor: doctor}, nil, id)
	r := rep.Results[0]
	assertTexts(t, e.inst.Cat, r)
	return r
}

func wantResult(t *testing.T, r Result, status Status, msg, fix string) {
	t.Helper()
	if r.Status != status || r.Msg != msg || r.Fix != fix {
		t.Errorf("%s: got %s %s (fix %s), want %s %s (fix %s): %v", r.ID, r.Status, r.Msg, r.Fix, status, msg, fix, r.Args)
	}
}

// TestMailChecksOAuth2: before the install the OAuth2 sign-in is announced (a warning, nothing
// touched); on an installed system (doctor) a missing sign-in blocks with the command that fixes
// it, a good sign-in logs in to the relay, a relay with SMTP AUTH disabled and a revoked sign-in
// each block with their own explanation and fix.
func TestMailChecksOAuth2(t *testing.T) {
	e := newMailEnv(t, startIMAP(t))
	cat := e.inst.Cat

	r := e.check(t, "smtp", false)
	wantResult(t, r, Warning, "installer.check.mail.signin_after", "installer.fix.mail.signin")
	if fix := r.FixText(cat, "it"); !strings.Contains(fix, "rocca mail login --account helpdesk") {
		t.Errorf("fix = %q", fix)
	}
	if _, err := os.Stat(e.cfg.Server.DataDir); !os.IsNotExist(err) {
		t.Errorf("a check before the install created the data dir: %v", err)
	}
	wantResult(t, e.check(t, "imap", false), Warning, "installer.check.mail.signin_after", "installer.fix.mail.signin")

	wantResult(t, e.check(t, "smtp", true), Blocker, "installer.check.mail.accounts", "installer.fix.mail.accounts")
	e.install(t)
	wantResult(t, e.check(t, "smtp", true), Blocker, "mail.account.error.not_connected", "installer.fix.mail.signin")
	wantResult(t, e.check(t, "imap", true), Blocker, "mail.account.error.not_connected", "installer.fix.mail.signin")

	if st := e.signIn(t); st.SignedInAs != e.p.Email || st.State != mail.StatusReady {
		t.Fatalf("signed in: %+v", st)
	}
	r = e.check(t, "smtp", true)
	wantResult(t, r, OK, "installer.check.smtp.ok_oauth2", "")
	if logins := e.relay.Logins(); len(logins) != 1 || logins[0] != "ok "+e.p.Email {
		t.Errorf("relay logins %v", logins)
	}
	// An IMAP server that offers no OAuth2 mechanism: the explanation names it.
	wantResult(t, e.check(t, "imap", true), Blocker, "installer.check.imap.failed", "mail.hint.no_mechanism")

	e.relay.DisableAuth(true)
	wantResult(t, e.check(t, "smtp", true), Blocker, "installer.check.smtp.failed", "mail.hint.smtp_auth_disabled")
	e.relay.DisableAuth(false)

	e.p.RevokeRefreshTokens()
	r = e.check(t, "smtp", true)
	wantResult(t, r, Blocker, "mail.account.error.revoked", "installer.fix.mail.signin")
	if text := r.Text(cat, "it"); !strings.Contains(text, "invalid_grant") || !strings.Contains(text, "revocato") {
		t.Errorf("revoked: %q", text)
	}
	// Now the database knows: the next run says so without asking the provider.
	refreshes := e.p.Count("refresh")
	wantResult(t, e.check(t, "imap", true), Blocker, "mail.account.error.revoked", "installer.fix.mail.signin")
	if e.p.Count("refresh") != refreshes {
		t.Error("a revoked sign-in was tried again")
	}
}

// TestMailCheckGoogleNeedsTheWebPage: Google allows no device grant for mail, so the fix is the
// admin page, never `rocca mail login`.
func TestMailCheckGoogleNeedsTheWebPage(t *testing.T) {
	e := newMailEnv(t, 1)
	secret := filepath.Join(t.TempDir(), "google.secret")
	os.WriteFile(secret, []byte("s\n"), 0o600)
	h := &e.cfg.Helpdesk
	h.OAuth2Provider, h.OAuth2ClientSecretFile = config.OAuth2Google, secret
	r := e.check(t, "imap", false)
	wantResult(t, r, Warning, "installer.check.mail.signin_web", "installer.fix.mail.signin_web")
	if fix := r.FixText(e.inst.Cat, "it"); !strings.Contains(fix, "https://rocca.comune.esempio.it/admin/mail") {
		t.Errorf("fix = %q", fix)
	}
	e.install(t)
	wantResult(t, e.check(t, "imap", true), Blocker, "mail.account.error.not_connected", "installer.fix.mail.signin_web")
	pending, err := e.inst.MailSignIns(context.Background(), e.cfg)
	if err != nil || len(pending) != 1 || pending[0].DeviceGrant || pending[0].Account != HelpdeskAccount {
		t.Errorf("pending sign-ins %+v, %v", pending, err)
	}
}

// TestSignInMail: the installer's device sign-in stores the sign-in where the server finds it, the
// key file 0600 and owned like the data dir, and the summary stops asking for it.
func TestSignInMail(t *testing.T) {
	e := newMailEnv(t, 1)
	e.install(t)
	ctx := context.Background()
	if pending, _ := e.inst.MailSignIns(ctx, e.cfg); len(pending) != 1 || !pending[0].DeviceGrant {
		t.Fatalf("pending before the sign-in: %+v", pending)
	}
	e.signIn(t)
	key := filepath.Join(e.cfg.Server.DataDir, mail.KeyFileName)
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key %v %v", fi, err)
	}
	di, _ := os.Stat(e.cfg.Server.DataDir)
	if fi.Sys().(*syscall.Stat_t).Uid != di.Sys().(*syscall.Stat_t).Uid {
		t.Error("the key file is not owned like the data dir")
	}
	p := &Plan{inst: e.inst, answers: &Answers{Config: e.cfg}}
	p.NoteMailSignIns(ctx)
	if len(p.Outcome.MailPending) != 0 {
		t.Errorf("still pending after the sign-in: %+v", p.Outcome.MailPending)
	}
}

// TestMailAccountConfigs: the installer registers the same accounts as `rocca serve`.
func TestMailAccountConfigs(t *testing.T) {
	c := testConfig("/var/lib/rocca")
	if got := MailAccountConfigs(c); len(got) != 0 {
		t.Errorf("no mailbox: %+v", got)
	}
	c.Helpdesk.IMAPHost, c.Helpdesk.IMAPAuth = "outlook.office365.com", config.AuthOAuth2
	c.Mail.SMTPHost, c.Mail.SMTPAuth = "smtp.office365.com", config.AuthHelpdesk
	got := MailAccountConfigs(c)
	if len(got) != 1 || got[0].Name != HelpdeskAccount || strings.Join(got[0].Uses, ",") != "IMAP,SMTP" || !UsesOAuth2(c) {
		t.Errorf("one sign-in for both: %+v", got)
	}
	c.Helpdesk.IMAPAuth = config.AuthPassword
	c.Mail.SMTPAuth, c.Mail.SMTPUser = config.AuthPassword, "relay"
	got = MailAccountConfigs(c)
	if len(got) != 2 || got[1].Name != SMTPAccount || got[1].Method != mail.MethodPassword || UsesOAuth2(c) {
		t.Errorf("two password accounts: %+v", got)
	}
}
