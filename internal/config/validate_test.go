package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// problemsIn parses doc as rocca.toml and returns its problems, leaving out the warning every
// localhost config gets (the VPN endpoint derived from a 127.0.0.1 public_url) unless keep says so.
func problemsIn(t *testing.T, doc string, keep ...string) Problems {
	t.Helper()
	_, _, ps := parse("rocca.toml", []byte(doc), nil, false, nil)
	var out Problems
	for _, p := range ps {
		if p.Msg == "config.endpoint_local" && !slices.Contains(keep, p.Msg) {
			continue
		}
		out = append(out, p)
	}
	return out
}

type rule struct {
	name string
	doc  string
	key  string // "" when the document is valid
	msg  string
	sev  Severity
	line int
}

// checkRules asserts that each document yields exactly the one expected problem (or none), with its
// key, message, severity and line.
func checkRules(t *testing.T, rules []rule) {
	t.Helper()
	cat := catalog(t)
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			ps := problemsIn(t, r.doc, r.msg)
			if r.key == "" {
				if len(ps) != 0 {
					t.Fatalf("want no problem, got:\n%s", ps.Text(cat, "en"))
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("want exactly one problem (%s %s), got %d:\n%s", r.key, r.msg, len(ps), ps.Text(cat, "en"))
			}
			p := ps[0]
			sev := cmpOr(r.sev, SeverityError)
			if p.Key != r.key || p.Msg != r.msg || p.Severity != sev || p.Line != r.line {
				t.Errorf("got %s %s %s line %d, want %s %s %s line %d\n%s",
					p.Key, p.Msg, p.Severity, p.Line, r.key, r.msg, sev, r.line, p.Text(cat, "en"))
			}
			if text := p.Text(cat, "en"); strings.Contains(text, "%!") || strings.Contains(text, "[config.") {
				t.Errorf("badly formatted message: %s", text)
			}
		})
	}
}

func cmpOr(s, def Severity) Severity {
	if s == "" {
		return def
	}
	return s
}

func TestServerRules(t *testing.T) {
	longDir := "/" + strings.Repeat("d", 110)
	checkRules(t, []rule{
		{"listen without port", "[server]\nlisten = \"localhost\"\n", "server.listen", "config.hostport", "", 2},
		{"listen port zero", "[server]\nlisten = \":0\"\n", "server.listen", "config.hostport", "", 2},
		{"listen port too high", "\n[server]\nlisten = \"127.0.0.1:70000\"\n", "server.listen", "config.hostport", "", 3},
		{"listen bad host", "[server]\nlisten = \"bad host:80\"\n", "server.listen", "config.hostport", "", 2},
		{"listen every interface", "[server]\nlisten = \":443\"\n", "", "", "", 0},
		{"listen ipv6", "[server]\nlisten = \"[::1]:8080\"\n", "", "", "", 0},
		{"metrics without host", "[server]\nmetrics_listen = \"9090\"\n", "server.metrics_listen", "config.hostport", "", 2},
		{"metrics off", "[server]\nmetrics_listen = \"\"\n", "", "", "", 0},
		{"public_url without scheme", "[server]\npublic_url = \"rocca.comune.example.it\"\n", "server.public_url", "config.url", "", 2},
		{"public_url ftp", "[server]\npublic_url = \"ftp://rocca.comune.example.it\"\n", "server.public_url", "config.url", "", 2},
		{"public_url with user", "[server]\npublic_url = \"https://me@rocca.comune.example.it\"\n", "server.public_url", "config.url", "", 2},
		{"public_url with path", "[server]\npublic_url = \"https://comune.example.it/rocca\"\n", "server.public_url", "config.url_path", "", 2},
		{"public_url with slash", "[server]\npublic_url = \"https://rocca.comune.example.it/\"\n", "", "", "", 0},
		{"tls unknown", "[server]\ntls = \"sì\"\n", "server.tls", "config.one_of", "", 2},
		{"tls self-signed", "[server]\ntls = \"self-signed\"\n", "", "", "", 0},
		{"acme over http", "[server]\nlisten = \":443\"\npublic_url = \"http://rocca.comune.example.it\"\ntls = \"acme\"\n", "server.public_url", "config.acme_url", "", 3},
		{"acme with an IP", "[server]\nlisten = \":443\"\npublic_url = \"https://192.0.2.7\"\ntls = \"acme\"\n", "server.public_url", "config.acme_url", "", 3},
		{"acme with localhost", "[server]\nlisten = \":443\"\npublic_url = \"https://localhost\"\ntls = \"acme\"\n", "server.public_url", "config.acme_url", "", 3},
		{"acme default url located at tls", "[server]\nlisten = \":443\"\ntls = \"acme\"\n", "server.public_url", "config.acme_url", "", 3},
		{"acme fine", "[server]\nlisten = \":443\"\npublic_url = \"https://rocca.comune.example.it\"\ntls = \"acme\"\nacme_email = \"it@comune.example.it\"\n", "", "", "", 0},
		{"acme on loopback", "[server]\npublic_url = \"https://rocca.comune.example.it\"\ntls = \"acme\"\n", "server.listen", "config.acme_loopback", SeverityWarning, 0},
		{"acme_email invalid", "[server]\nacme_email = \"it at comune\"\n", "server.acme_email", "config.email", "", 2},
		{"acme_email with name", "[server]\nacme_email = \"IT <it@comune.example.it>\"\n", "server.acme_email", "config.email_bare", "", 2},
		{"data_dir empty", "[server]\ndata_dir = \"\"\n", "server.data_dir", "config.required", "", 2},
		{"socket path too long", "[server]\ndata_dir = \"" + longDir + "\"\n", "server.admin_socket", "config.socket_too_long", "", 2},
		{"session_hours zero", "[server]\nsession_hours = 0\n", "server.session_hours", "config.range", "", 2},
		{"session_hours too many", "[server]\nsession_hours = 721\n", "server.session_hours", "config.range", "", 2},
		{"memory_limit_mb too small", "[server]\nmemory_limit_mb = 10\n", "server.memory_limit_mb", "config.range", "", 2},
		{"memory_limit_mb negative", "[server]\nmemory_limit_mb = -1\n", "server.memory_limit_mb", "config.range", "", 2},
	})
}

func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	cert := writeFile(t, dir, "cert.pem", 0o644)
	key := writeFile(t, dir, "key.pem", 0o600)
	openKey := writeFile(t, dir, "open.pem", 0o644)
	missing := filepath.Join(dir, "missing.pem")
	files := func(c, k string) string {
		return fmt.Sprintf("[server]\ntls = \"files\"\ncert_file = %q\nkey_file = %q\n", c, k)
	}
	checkRules(t, []rule{
		{"both present", files(cert, key), "", "", "", 0},
		{"cert missing", files(missing, key), "server.cert_file", "config.file_missing", "", 3},
		{"key is a directory", files(cert, dir), "server.key_file", "config.file_dir", "", 4},
		{"key readable by others", files(cert, openKey), "server.key_file", "config.secret_mode", SeverityWarning, 4},
		{"cert not set", fmt.Sprintf("[server]\ntls = \"files\"\nkey_file = %q\n", key), "server.cert_file", "config.required_when", "", 2},
	})

	// Neither file: two problems, both pointing at the line that asks for them.
	ps := problemsIn(t, "[server]\ntls = \"files\"\n")
	if len(ps) != 2 || ps[0].Key != "server.cert_file" || ps[1].Key != "server.key_file" || ps[0].Line != 2 || ps[1].Line != 2 {
		t.Errorf("tls = files without files: got %+v", ps)
	}
}

func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root, which reads any file: the permission-denied case cannot happen")
	}
	dir := t.TempDir()
	pw := writeFile(t, dir, "pw", 0o000)
	ps := problemsIn(t, fmt.Sprintf("[mail]\nsmtp_password_file = %q\n", pw))
	if len(ps) != 1 || ps[0].Msg != "config.file_denied" || ps[0].Line != 2 {
		t.Errorf("got %+v", ps)
	}
}

func TestMunicipalityRules(t *testing.T) {
	checkRules(t, []rule{
		{"name empty", "[municipality]\nname = \"  \"\n", "municipality.name", "config.required", "", 2},
		{"ipa code with space", "[municipality]\nipa_code = \"c h501\"\n", "municipality.ipa_code", "config.ipa_code", "", 2},
		{"ipa code fine", "[municipality]\nipa_code = \"c_h501\"\n", "", "", "", 0},
		{"language german", "[municipality]\nlanguage = \"de\"\n", "municipality.language", "config.one_of", "", 2},
		{"language english", "[municipality]\nlanguage = \"en\"\n", "", "", "", 0},
	})
}

func TestVPNRules(t *testing.T) {
	checkRules(t, []rule{
		{"mode unknown", "[vpn]\nmode = \"wg\"\n", "vpn.mode", "config.one_of", "", 2},
		{"mode userspace", "[vpn]\nmode = \"userspace\"\n", "", "", "", 0},
		{"mode external", "[vpn]\nmode = \"external\"\n", "", "", "", 0},
		{"mode external, upper case", "[vpn]\nmode = \"External\"\n", "vpn.mode", "config.one_of", "", 2},
		{"interface too long", "[vpn]\ninterface = \"rocca-vpn-interface\"\n", "vpn.interface", "config.ifname", "", 2},
		{"interface with space", "[vpn]\ninterface = \"wg 0\"\n", "vpn.interface", "config.ifname", "", 2},
		{"interface empty", "[vpn]\ninterface = \"\"\n", "vpn.interface", "config.ifname", "", 2},
		{"interface 15 chars", "[vpn]\ninterface = \"rocca_vpn-12345\"\n", "", "", "", 0},
		{"port zero", "[vpn]\nlisten_port = 0\n", "vpn.listen_port", "config.port", "", 2},
		{"port too high", "[vpn]\nlisten_port = 65536\n", "vpn.listen_port", "config.port", "", 2},
		{"subnet without size", "[vpn]\nsubnet = \"10.86.0.0\"\n", "vpn.subnet", "config.cidr", "", 2},
		{"subnet ipv6", "[vpn]\nsubnet = \"fd00::/64\"\n", "vpn.subnet", "config.subnet_ipv4", "", 2},
		{"subnet too large", "[vpn]\nsubnet = \"10.0.0.0/8\"\n", "vpn.subnet", "config.subnet_size", "", 2},
		{"subnet too small", "[vpn]\nsubnet = \"10.86.0.0/31\"\n", "vpn.subnet", "config.subnet_size", "", 2},
		{"subnet /16", "[vpn]\nsubnet = \"10.86.0.0/16\"\n", "", "", "", 0},
		{"subnet /30", "[vpn]\nsubnet = \"10.86.0.4/30\"\n", "", "", "", 0},
		{"subnet host bits", "[vpn]\nsubnet = \"10.86.0.1/24\"\n", "vpn.subnet", "config.host_bits", "", 2},
		{"subnet public", "[vpn]\nsubnet = \"8.8.8.0/24\"\n", "vpn.subnet", "config.subnet_public", SeverityWarning, 2},
		{"subnet shared space", "[vpn]\nsubnet = \"100.64.1.0/24\"\n", "", "", "", 0},
		{"endpoint without port", "[vpn]\nendpoint = \"vpn.comune.example.it\"\n", "vpn.endpoint", "config.hostport", "", 2},
		{"endpoint without host", "[vpn]\nendpoint = \":51820\"\n", "vpn.endpoint", "config.hostport", "", 2},
		{"endpoint fine", "[vpn]\nendpoint = \"vpn.comune.example.it:51820\"\n", "", "", "", 0},
		{"endpoint from localhost url", "[vpn]\nenabled = true\n", "vpn.endpoint", "config.endpoint_local", SeverityWarning, 0},
		{"dns name instead of IP", "[vpn]\ndns = [\"192.168.1.1\", \"dns.google\"]\n", "vpn.dns[1]", "config.ip", "", 2},
		{"lan bad entry on its own line", "[vpn]\nlan = [\n  \"192.168.1.0/24\",\n  \"192.168.2.0\",\n]\n", "vpn.lan[1]", "config.cidr", "", 4},
		{"lan host bits", "[vpn]\nlan = [\"192.168.1.5/24\"]\n", "vpn.lan[0]", "config.host_bits", "", 2},
		{"lan ipv6 and empty", "[vpn]\nlan = [\"fd00:1::/64\"]\n", "", "", "", 0},
		{"mtu too big", "[vpn]\nmtu = 9000\n", "vpn.mtu", "config.range", "", 2},
		{"keepalive negative", "[vpn]\nkeepalive = -1\n", "vpn.keepalive", "config.range", "", 2},
		{"keepalive off", "[vpn]\nkeepalive = 0\n", "", "", "", 0},
	})
}

func TestSubnetOverlapsLocalRoute(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rocca.toml")
	doc := "[server]\npublic_url = \"https://rocca.comune.example.it\"\n[vpn]\nsubnet = \"10.86.0.0/24\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	routes := []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/0"),      // the default route says nothing
		netip.MustParsePrefix("192.168.1.0/24"), // unrelated
		netip.MustParsePrefix("10.86.0.0/16"),   // overlaps
		netip.MustParsePrefix("10.87.0.0/24"),   // not overlapping, but the suggestion must avoid it
	}
	cfg, ps := Check(path, nil, routes)
	if cfg == nil {
		t.Fatal("no config")
	}
	if len(ps) != 1 {
		t.Fatalf("want one warning, got %+v", ps)
	}
	p := ps[0]
	if p.Severity != SeverityWarning || p.Key != "vpn.subnet" || p.Msg != "config.subnet_route" || p.Line != 4 || p.File != path {
		t.Errorf("got %+v", p)
	}
	if want := []any{"10.86.0.0/24", "10.86.0.0/16", "10.88.0.0/24"}; fmt.Sprint(p.Args) != fmt.Sprint(want) {
		t.Errorf("args %v, want %v", p.Args, want)
	}
	// Load ignores warnings; with the VPN off the overlap does not matter.
	if _, err := Load(path, nil); err != nil {
		t.Errorf("Load failed on a warning: %v", err)
	}
	if _, ps := Check(path, []string{"ROCCA_VPN_ENABLED=false"}, routes); len(ps) != 0 {
		t.Errorf("VPN off: got %+v", ps)
	}
}

func TestMeetingsRules(t *testing.T) {
	checkRules(t, []rule{
		{"udp port zero", "[meetings]\nudp_port = 0\n", "meetings.udp_port", "config.port", "", 2},
		{"turn port too high", "[meetings]\nturn_port = 99999\n", "meetings.turn_port", "config.port", "", 2},
		{"public ip not an ip", "[meetings]\npublic_ip = \"rocca.comune.example.it\"\n", "meetings.public_ip", "config.ip", "", 2},
		{"public ip private", "[meetings]\npublic_ip = \"192.168.1.10\"\n", "meetings.public_ip", "config.public_ip_private", SeverityWarning, 2},
		{"public ip fine", "[meetings]\npublic_ip = \"203.0.113.10\"\n", "", "", "", 0},
		{"no public viewers", "[meetings]\npublic_viewers = 0\n", "meetings.public_viewers", "config.range", "", 2},
		{"public viewers too many", "[meetings]\npublic_viewers = 10001\n", "meetings.public_viewers", "config.range", "", 2},
	})
}

func TestHelpdeskRules(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, dir, "imap.pw", 0o600)
	openPW := writeFile(t, dir, "open.pw", 0o640)
	full := func(extra string) string {
		return fmt.Sprintf("[helpdesk]\naddress = \"helpdesk@comune.example.it\"\nimap_host = \"mail.comune.example.it\"\n"+
			"imap_user = \"helpdesk\"\nimap_password_file = %q\n%s[mail]\nsmtp_host = \"mail.comune.example.it\"\nfrom = \"helpdesk@comune.example.it\"\n", pw, extra)
	}
	checkRules(t, []rule{
		{"idle without imap_host", "[helpdesk]\nenabled = true\nimap_host = \"\"\n", "", "", "", 0},
		{"fully configured", full(""), "", "", "", 0},
		{"address not an address", "[helpdesk]\naddress = \"helpdesk\"\n", "helpdesk.address", "config.email", "", 2},
		{"address with a name", "[helpdesk]\naddress = \"Helpdesk <helpdesk@comune.example.it>\"\n", "helpdesk.address", "config.email_bare", "", 2},
		{"imap host with scheme", strings.Replace(full(""), "imap_host = \"mail.", "imap_host = \"imaps://mail.", 1), "helpdesk.imap_host", "config.host", "", 3},
		{"imap user missing", strings.Replace(full(""), "imap_user = \"helpdesk\"\n", "", 1), "helpdesk.imap_user", "config.required_with", "", 3},
		{"imap security ssl", full("imap_security = \"ssl\"\n"), "helpdesk.imap_security", "config.one_of", "", 6},
		{"imap starttls on 993", full("imap_security = \"starttls\"\n"), "helpdesk.imap_security", "config.port_security", SeverityWarning, 6},
		{"imap in clear to another host", full("imap_security = \"none\"\nimap_port = 143\n"), "helpdesk.imap_security", "config.plaintext", SeverityWarning, 6},
		{"imap in clear to localhost", strings.Replace(full("imap_security = \"none\"\nimap_port = 143\n"), "imap_host = \"mail.comune.example.it\"", "imap_host = \"127.0.0.1\"", 1), "", "", "", 0},
		{"password file missing", strings.Replace(full(""), pw, pw+".nope", 1), "helpdesk.imap_password_file", "config.file_missing", "", 5},
		{"password file open", strings.Replace(full(""), pw, openPW, 1), "helpdesk.imap_password_file", "config.secret_mode", SeverityWarning, 5},
		{"no smtp to reply", strings.Replace(full(""), "smtp_host = \"mail.comune.example.it\"\n", "", 1), "helpdesk.imap_host", "config.helpdesk_no_smtp", SeverityWarning, 3},
		{"imap folder empty", "[helpdesk]\nimap_folder = \"\"\nprocessed_folder = \"Done\"\n", "helpdesk.imap_folder", "config.required", "", 2},
		{"processed is the inbox", "[helpdesk]\nprocessed_folder = \"INBOX\"\n", "helpdesk.processed_folder", "config.same_folder", "", 2},
		{"allowed domain without dot", "[helpdesk]\nallowed_domains = [\"comune.example.it\", \"comune\"]\n", "helpdesk.allowed_domains[1]", "config.domain", "", 2},
		{"imap port zero", "[helpdesk]\nimap_port = 0\n", "helpdesk.imap_port", "config.port", "", 2},
		{"external senders refused", "[helpdesk]\nexternal_senders = \"refuse\"\n", "helpdesk.external_senders", "config.one_of", "", 2},
		{"closed reply ignore", "[helpdesk]\n\nclosed_reply = \"ignore\"\n", "helpdesk.closed_reply", "config.one_of", "", 3},
		{"notify everyone", "[helpdesk]\nnotify_new = \"all\"\n", "helpdesk.notify_new", "config.one_of", "", 2},
		{"notify reply requester", "[helpdesk]\nnotify_reply = \"requester\"\n", "helpdesk.notify_reply", "config.one_of", "", 2},
		{"empty category", "[helpdesk]\ncategories = [\"rete\", \" \"]\n", "helpdesk.categories[1]", "config.required", "", 2},
		{"sla zero", "[helpdesk]\nsla_urgent_hours = 0\n", "helpdesk.sla_urgent_hours", "config.range", "", 2},
		{"sla negative", "[helpdesk]\nsla_low_hours = -5\n", "helpdesk.sla_low_hours", "config.range", "", 2},
		{"huge messages", "[helpdesk]\nmax_message_mb = 4096\n", "helpdesk.max_message_mb", "config.range", "", 2},
		{"no attachments", "[helpdesk]\nmax_attachment_mb = 0\n", "helpdesk.max_attachment_mb", "config.range", "", 2},
		{"log kept forever", "[helpdesk]\nlog_retention_days = 0\n", "helpdesk.log_retention_days", "config.range", "", 2},
		{"policies set", "[helpdesk]\nexternal_senders = \"hold\"\nclosed_reply = \"new\"\nacknowledgements = false\nnotify_new = \"none\"\nnotify_reply = \"agents\"\ncategories = [\"protocollo\"]\nsla_high_hours = 24\n", "", "", "", 0},
	})
}

func TestMailRules(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, dir, "smtp.pw", 0o600)
	checkRules(t, []rule{
		{"security ssl", "[mail]\nsmtp_security = \"ssl\"\n", "mail.smtp_security", "config.one_of", "", 2},
		{"from not an address", "[mail]\nfrom = \"Helpdesk\"\n", "mail.from", "config.from", "", 2},
		{"from with name", "[mail]\nfrom = \"Helpdesk del Comune <helpdesk@comune.example.it>\"\n", "", "", "", 0},
		{"host with port", "[mail]\nsmtp_host = \"mail.comune.example.it:587\"\nfrom = \"h@comune.example.it\"\n", "mail.smtp_host", "config.host", "", 2},
		{"host without from", "[mail]\nsmtp_host = \"mail.comune.example.it\"\n", "mail.from", "config.required_with", "", 2},
		{"user without password", "[mail]\nsmtp_user = \"rocca\"\n", "mail.smtp_password_file", "config.required_with", "", 2},
		{"user with password", fmt.Sprintf("[mail]\nsmtp_user = \"rocca\"\nsmtp_password_file = %q\n", pw), "", "", "", 0},
		{"starttls on 465", "[mail]\nsmtp_host = \"m.comune.example.it\"\nfrom = \"h@comune.example.it\"\nsmtp_port = 465\n", "mail.smtp_security", "config.port_security", SeverityWarning, 4},
		{"port too high", "[mail]\nsmtp_port = 100000\n", "mail.smtp_port", "config.port", "", 2},
	})
}

func TestPortClashes(t *testing.T) {
	checkRules(t, []rule{
		{"vpn on the media port", "[vpn]\nlisten_port = 7882\n", "vpn.listen_port", "config.port_clash", "", 2},
		{"vpn on the media port, vpn off", "[vpn]\nenabled = false\nlisten_port = 7882\n", "", "", "", 0},
		{"media on the TURN port", "[meetings]\nudp_port = 3478\n", "meetings.udp_port", "config.port_clash", "", 2},
		{"web on the TURN port", "[server]\nlisten = \":3478\"\n", "server.listen", "config.port_clash", "", 2},
		{"web on the VPN port is fine: TCP and UDP", "[server]\nlisten = \":51820\"\n", "", "", "", 0},
		{"metrics on the web address", "[server]\nmetrics_listen = \"127.0.0.1:8080\"\n", "server.metrics_listen", "config.port_clash", "", 2},
		{"metrics on the web port, other address", "[server]\nmetrics_listen = \"127.0.0.2:8080\"\n", "", "", "", 0},
		{"metrics on every address", "[server]\nmetrics_listen = \":8080\"\n", "server.metrics_listen", "config.port_clash", "", 2},
	})
}

func TestAdminSection(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, dir, "admin.pw", 0o600)
	doc := fmt.Sprintf("[server]\nlisten = \":443\"\n\n[admin]\nemail = \"it@comune.example.it\"\nname = \"Ufficio IT\"\npassword_file = %q\n", pw)
	cfg, admin, err := ParseAnswers("answers.toml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != ":443" || *admin != (Admin{Email: "it@comune.example.it", Name: "Ufficio IT", PasswordFile: pw}) {
		t.Errorf("got %+v %+v", cfg.Server, admin)
	}
	// rocca.toml itself has no [admin] section.
	if _, err := Parse("rocca.toml", []byte(doc), nil); err == nil {
		t.Error("Parse accepted [admin]")
	}
	_, _, err = ParseAnswers("answers.toml", []byte("[admin]\nemail = \"it\"\nnom = \"x\"\n"), nil)
	ps := asProblems(t, err)
	got := summary(ps)
	want := []string{"2 admin.email config.email", "3 admin.nom config.unknown_key_hint", "0 admin.name config.required"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	_, _, err = ParseAnswers("answers.toml", []byte("[server]\n"), nil)
	if ps := asProblems(t, err); len(ps) != 3 || ps[0].Msg != "config.admin_missing" {
		t.Errorf("no [admin]: got %v", summary(ps))
	}
}
