package installer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/internal/config"
)

// TestInstallOAuth2Mailbox: an OAuth2 mailbox (Microsoft 365) installs its client secret 0600 in a
// file of its own, passes the config's validation, and the summary says how to sign it in; a
// second run changes nothing.
func TestInstallOAuth2Mailbox(t *testing.T) {
	inst := newTestInstaller(t, goodSys())
	a := testAnswers(inst.Paths)
	h, m := &a.Config.Helpdesk, &a.Config.Mail
	h.IMAPHost, h.IMAPAuth, h.IMAPUser = "outlook.office365.com", config.AuthOAuth2, h.Address
	h.OAuth2Provider, h.OAuth2Tenant, h.OAuth2ClientID = config.OAuth2Microsoft, "comune.esempio.it", "0a1b2c3d"
	h.OAuth2ClientSecretFile, a.OAuth2ClientSecret = inst.Paths.OAuth2SecretFile(), "segreto-app"
	m.SMTPHost, m.SMTPAuth, m.From = "smtp.office365.com", config.AuthHelpdesk, "Helpdesk <"+h.Address+">"
	if ps := a.Validate(nil); ps.HasErrors() {
		t.Fatalf("answers: %v", ps)
	}
	p := plan(t, inst, a)
	if c := p.changeOf("oauth2_secret"); c.Action != Create {
		t.Fatalf("secret step: %+v", c)
	}
	if err := p.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(h.OAuth2ClientSecretFile)
	fi, _ := os.Stat(h.OAuth2ClientSecretFile)
	if err != nil || string(b) != "segreto-app\n" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file %q %v %v", b, err, fi.Mode())
	}
	if _, err := config.Load(inst.Paths.Config, nil); err != nil {
		t.Fatalf("installed config: %v", err)
	}
	p.NoteMailSignIns(context.Background())
	var sum strings.Builder
	WriteSummary(&sum, inst.Cat, "it", a, p)
	want := "Collega la casella «helpdesk» (OAuth2): rocca --config " + inst.Paths.Config + " mail login --account helpdesk"
	if !strings.Contains(sum.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, sum.String())
	}
	if plan(t, inst, a).Changed() {
		t.Error("a second run with the same answers changes something")
	}
}

// TestLoadAnswersCopiesTheClientSecret: like the mail passwords, the OAuth2 client secret of an
// answers file is copied next to the config, where the service reads it.
func TestLoadAnswersCopiesTheClientSecret(t *testing.T) {
	dir := t.TempDir()
	paths := NewPaths(filepath.Join(dir, "root"))
	secret := writeFile(t, filepath.Join(dir, "client.secret"), "segreto-google\n", 0o600)
	pw := writeFile(t, filepath.Join(dir, "admin.pw"), "una password lunga\n", 0o600)
	answers := writeFile(t, filepath.Join(dir, "answers.toml"), `
[server]
public_url = "https://rocca.comune.esempio.it"

[helpdesk]
address = "helpdesk@comune.esempio.it"
imap_host = "imap.gmail.com"
imap_user = "helpdesk@comune.esempio.it"
imap_auth = "oauth2"
oauth2_provider = "google"
oauth2_client_id = "123.apps.googleusercontent.com"
oauth2_client_secret_file = "`+secret+`"

[mail]
smtp_host = "smtp.gmail.com"
smtp_auth = "helpdesk"
from = "Helpdesk <helpdesk@comune.esempio.it>"

[admin]
email = "it@comune.esempio.it"
name = "Ufficio IT"
password_file = "`+pw+`"
`, 0o600)
	a, err := LoadAnswers(answers, nil, paths)
	if err != nil {
		t.Fatal(err)
	}
	if a.OAuth2ClientSecret != "segreto-google" || a.Config.Helpdesk.OAuth2ClientSecretFile != paths.OAuth2SecretFile() {
		t.Errorf("secret %q in %s", a.OAuth2ClientSecret, a.Config.Helpdesk.OAuth2ClientSecretFile)
	}
	for _, p := range a.Validate(nil) {
		if p.Key == "helpdesk.oauth2_client_secret_file" {
			t.Errorf("the file the install writes is reported: %+v", p)
		}
	}
}
