package installer

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/internal/config"
)

func writeFile(t *testing.T, path, body string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadAnswersReadsSecretsAndNormalizes(t *testing.T) {
	dir := t.TempDir()
	paths := NewPaths(filepath.Join(dir, "root"))
	pw := writeFile(t, filepath.Join(dir, "admin.pw"), "una password lunga\n", 0o600)
	imap := writeFile(t, filepath.Join(dir, "imap.pw"), "segreto-imap\n", 0o600)
	answers := writeFile(t, filepath.Join(dir, "answers.toml"), `
[server]
public_url = "https://rocca.comune.esempio.it"
tls = "acme"

[municipality]
name = "Comune di Esempio"

[helpdesk]
address = "helpdesk@comune.esempio.it"
imap_host = "imap.comune.esempio.it"
imap_user = "helpdesk@comune.esempio.it"
imap_password_file = "`+imap+`"

[mail]
smtp_host = "smtp.comune.esempio.it"
smtp_user = "helpdesk@comune.esempio.it"
smtp_password_file = "`+imap+`"
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
	s := a.Config.Server
	if s.DataDir != paths.DataDir || s.Listen != ":443" || s.ACMEEmail != "it@comune.esempio.it" {
		t.Errorf("normalized server: %+v", s)
	}
	if a.AdminPassword != "una password lunga" || a.IMAPPassword != "segreto-imap" {
		t.Errorf("passwords %q %q", a.AdminPassword, a.IMAPPassword)
	}
	if a.Config.Helpdesk.IMAPPasswordFile != paths.IMAPPasswordFile() || a.Config.Mail.SMTPPasswordFile != paths.IMAPPasswordFile() {
		t.Errorf("password files %s %s", a.Config.Helpdesk.IMAPPasswordFile, a.Config.Mail.SMTPPasswordFile)
	}
	if errs := a.Validate(nil).Errors(); len(errs) > 0 {
		t.Errorf("valid answers reported: %v", errs)
	}
}

func TestLoadAnswersNamesTheWrongKey(t *testing.T) {
	dir := t.TempDir()
	answers := writeFile(t, filepath.Join(dir, "answers.toml"), `
[server]
tls = "sì"

[vpn]
listen_port = 70000

[admin]
email = "it@comune.esempio.it"
name = "Ufficio IT"
`, 0o600)
	_, err := LoadAnswers(answers, nil, NewPaths(dir))
	var probs *config.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err %v", err)
	}
	text := probs.Text(testCatalog(t), "it")
	for _, want := range []string{"answers.toml:3: server.tls", `"sì"`, "answers.toml:6: vpn.listen_port", "70000"} {
		if !strings.Contains(text, want) {
			t.Errorf("problems lack %q:\n%s", want, text)
		}
	}
}

func TestValidateAnswersFromWizard(t *testing.T) {
	a := testAnswers(NewPaths(t.TempDir()))
	a.Config.Helpdesk.IMAPHost = "imap.comune.esempio.it"
	a.Config.Helpdesk.IMAPUser = "helpdesk@comune.esempio.it"
	a.Config.Helpdesk.IMAPPasswordFile = filepath.Join(t.TempDir(), "imap.password") // written by the install
	a.IMAPPassword = "segreto"
	a.AdminPassword = "corta"
	a.Admin.Email = "non-una-mail"
	ps := a.Validate(nil)
	keys := map[string]bool{}
	for _, p := range ps.Errors() {
		keys[p.Key] = true
	}
	if !keys["admin.email"] || !keys["admin.password_file"] || keys["helpdesk.imap_password_file"] {
		t.Errorf("problems %v", ps.Text(testCatalog(t), "en"))
	}
}

func TestDetectDefaults(t *testing.T) {
	f := goodSys()
	f.hostname = "rocca.comune.ponte-san-pietro.bg.it"
	f.addrs = append(f.addrs, Addr{Iface: "eth1", Prefix: mustPrefix("203.0.113.5/28")}, Addr{Iface: "docker0", Prefix: mustPrefix("172.17.0.1/16")})
	f.routes = append(f.routes, Route{Dst: mustPrefix("10.86.0.0/16"), Iface: "eth0"})
	inst := newTestInstaller(t, f)
	a, installed := inst.Defaults(t.Context())
	c := a.Config
	if installed || c.Municipality.Name != "Comune di Ponte San Pietro" || c.Server.TLS != config.TLSACME ||
		c.Server.PublicURL != "https://rocca.comune.ponte-san-pietro.bg.it" || c.Meetings.PublicIP != "203.0.113.5" {
		t.Errorf("defaults: %+v %+v %+v", c.Municipality, c.Server, c.Meetings)
	}
	if c.VPN.Subnet != "10.87.0.0/24" || strings.Join(c.VPN.LAN, ",") != "192.168.1.0/24,192.168.20.0/24,10.86.0.0/16" {
		t.Errorf("vpn: %s %v", c.VPN.Subnet, c.VPN.LAN)
	}
	if TLSFor("rocca.comune.lan") != config.TLSSelfSigned || TLSFor("10.0.0.1") != config.TLSSelfSigned {
		t.Error("TLSFor proposes ACME for a local name")
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
