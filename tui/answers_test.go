package tui

import (
	"testing"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
)

func testForms(t *testing.T, prefix string) *forms {
	t.Helper()
	o := testOptions(t, prefix)
	def, _ := o.Installer.Defaults(t.Context())
	m := newModel(t.Context(), o)
	return &forms{t: m.t, def: def, v: newValues(def), paths: o.Installer.Paths}
}

// TestMailboxAnswers: one mailbox serves both ways; the security follows the port; the password
// goes to the file the install writes.
func TestMailboxAnswers(t *testing.T) {
	f := testForms(t, "/srv/rocca-test")
	v := f.v
	v.email, v.password = "it@comune.esempio.it", "una password lunga"
	v.mailbox, v.address, v.imap, v.mailPassword = "now", "helpdesk@comune.esempio.it", "imap.comune.esempio.it", "segreto"
	a := f.answers()
	h, m := a.Config.Helpdesk, a.Config.Mail
	if h.IMAPHost != "imap.comune.esempio.it" || h.IMAPPort != 993 || h.IMAPSecurity != config.SecurityTLS || h.IMAPUser != "helpdesk@comune.esempio.it" {
		t.Errorf("helpdesk %+v", h)
	}
	if m.SMTPHost != "smtp.comune.esempio.it" || m.SMTPPort != 587 || m.SMTPSecurity != config.SecurityStartTLS || m.From != `"Helpdesk Comune di Esempio" <helpdesk@comune.esempio.it>` {
		t.Errorf("mail %+v", m)
	}
	if h.IMAPPasswordFile != "/srv/rocca-test/etc/rocca/imap.password" || m.SMTPPasswordFile != h.IMAPPasswordFile || a.IMAPPassword != "segreto" {
		t.Errorf("password files %s %s, password %q", h.IMAPPasswordFile, m.SMTPPasswordFile, a.IMAPPassword)
	}
	if errs := a.Validate(nil).Errors(); len(errs) > 0 {
		t.Errorf("valid answers rejected: %v", errs.Text(nil, "it"))
	}

	v.imap, v.smtp = "127.0.0.1:1143", "127.0.0.1:1025"
	a = f.answers()
	if a.Config.Helpdesk.IMAPSecurity != config.SecurityNone || a.Config.Mail.SMTPPort != 1025 {
		t.Errorf("loopback mailbox: %+v %+v", a.Config.Helpdesk, a.Config.Mail)
	}
}

// TestMailboxAnswersOAuth2: Microsoft 365 gets its servers, the tenant and the client, one sign-in
// for reading and sending, and the client secret in the file the install writes; a password preset
// fills the servers; going back to a password drops the OAuth2 keys.
func TestMailboxAnswersOAuth2(t *testing.T) {
	f := testForms(t, "/srv/rocca-test")
	v := f.v
	v.email, v.password = "it@comune.esempio.it", "una password lunga"
	v.mailbox, v.provider, v.address = "now", mailProviderMicrosoft, "helpdesk@comune.esempio.it"
	v.tenant, v.clientID, v.clientSecret = "comune.esempio.it", "0a1b2c3d", "segreto-app"
	a := f.answers()
	h, m := a.Config.Helpdesk, a.Config.Mail
	if h.IMAPAuth != config.AuthOAuth2 || h.OAuth2Provider != "microsoft" || h.OAuth2Tenant != "comune.esempio.it" || h.OAuth2ClientID != "0a1b2c3d" ||
		h.IMAPHost != "outlook.office365.com" || h.IMAPPort != 993 || h.IMAPSecurity != config.SecurityTLS || h.IMAPUser != v.address || h.IMAPPasswordFile != "" {
		t.Errorf("helpdesk %+v", h)
	}
	if m.SMTPHost != "smtp.office365.com" || m.SMTPPort != 587 || m.SMTPSecurity != config.SecurityStartTLS || m.SMTPAuth != config.AuthHelpdesk || m.SMTPUser != "" {
		t.Errorf("mail %+v", m)
	}
	if h.OAuth2ClientSecretFile != "/srv/rocca-test/etc/rocca/oauth2-client.secret" || a.OAuth2ClientSecret != "segreto-app" || a.IMAPPassword != "" {
		t.Errorf("secret %s %q", h.OAuth2ClientSecretFile, a.OAuth2ClientSecret)
	}
	for _, p := range a.Validate(nil).Errors() {
		if p.Key != "helpdesk.oauth2_client_secret_file" {
			t.Errorf("valid answers rejected: %s %s", p.Key, p.Msg)
		}
	}

	v.provider, v.mailPassword = "aruba-pec", "segreto"
	if def := f.imapDefault(); def != "imaps.pec.aruba.it" {
		t.Errorf("Aruba PEC IMAP default %q", def)
	}
	if def := f.smtpDefault(&v.imap)(); def != "smtps.pec.aruba.it:465" {
		t.Errorf("Aruba PEC SMTP default %q", def)
	}

	// An installed OAuth2 mailbox moved to a password server.
	f.def.Config = a.Config
	a = f.answers()
	h, m = a.Config.Helpdesk, a.Config.Mail
	if h.IMAPAuth != config.AuthPassword || h.OAuth2Provider != "" || h.OAuth2ClientSecretFile != "" || m.SMTPAuth != config.AuthPassword ||
		h.IMAPHost != "imaps.pec.aruba.it" || m.SMTPHost != "smtps.pec.aruba.it" || m.SMTPSecurity != config.SecurityTLS || a.IMAPPassword != "segreto" {
		t.Errorf("back to a password: %+v %+v", h, m)
	}
}

func TestTLSOffListensOnLoopback(t *testing.T) {
	f := testForms(t, "/srv/rocca-test")
	f.v.email, f.v.tls = "it@comune.esempio.it", string(config.TLSOff)
	s := f.answers().Config.Server
	if s.Listen != "127.0.0.1:8080" || s.PublicURL != "https://rocca.comune.esempio.it" {
		t.Errorf("server %+v", s)
	}
}

// TestBuiltKeysExist covers the message keys the screens build at run time.
func TestBuiltKeysExist(t *testing.T) {
	cat, _ := i18n.New()
	var keys []string
	for _, s := range stageNames {
		keys = append(keys, "tui.stage."+s, "tui.help."+s)
	}
	keys = append(keys, "tui.help.mail_done")
	for _, a := range []installer.Action{installer.Create, installer.Update, installer.Keep, installer.Skip} {
		keys = append(keys, "installer.action."+string(a))
	}
	for _, lang := range i18n.Languages() {
		for _, k := range keys {
			if !cat.Has(lang, k) {
				t.Errorf("%s: %s missing", lang, k)
			}
		}
	}
}
