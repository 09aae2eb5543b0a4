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
