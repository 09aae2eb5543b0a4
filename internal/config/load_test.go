package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func asProblems(t *testing.T, err error) Problems {
	t.Helper()
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want a *Problems, got %T %v", err, err)
	}
	return *ps
}

// summary renders problems as "line key msg" for compact comparisons.
func summary(ps Problems) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%d %s %s", p.Line, p.Key, p.Msg))
	}
	return out
}

// The acceptance test of the issue: three mistakes, three messages, each naming its line and key.
func TestThreeMistakesThreeMessages(t *testing.T) {
	doc := `# Rocca
[server]
listen = "127.0.0.1:8080"
public_url = "https://rocca.comune.example.it"
tls = "sì"

[municipality]
name = "Comune di Esempio"

[vpn]
enabled = true
listen_port = 70000
subnet = "10.86.0.0/24"
lan = ["192.168.1.0/24"]

[helpdesk]
imap_security = "ssl"
`
	path := filepath.Join(t.TempDir(), "rocca.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, nil)
	if cfg != nil {
		t.Error("Load returned a config along with errors")
	}
	ps := asProblems(t, err)
	want := []string{
		"5 server.tls config.one_of",
		"12 vpn.listen_port config.port",
		"17 helpdesk.imap_security config.one_of",
	}
	if got := summary(ps); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	lines := strings.Split(err.Error(), "\n")
	wantLines := []string{
		path + `:5: server.tls: "sì" is not allowed; use one of off, self-signed, files, acme`,
		path + `:12: vpn.listen_port: 70000 is not a valid port; use a number from 1 to 65535`,
		path + `:17: helpdesk.imap_security: "ssl" is not allowed; use one of tls, starttls, none`,
	}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("Error() =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
	if got := ps[0].Text(catalog(t), "it"); got != path+`:5: server.tls: "sì" non è ammesso; usa uno tra off, self-signed, files, acme` {
		t.Errorf("Italian text = %s", got)
	}
}

func TestUnknownKeysAndSections(t *testing.T) {
	doc := `[server]
listen = "127.0.0.1:8080"
listn = "127.0.0.1:8081"
colour = "blue"

[servr]
x = 1

[stuff]

[vpn.extra]
a = 1
`
	_, err := Parse("rocca.toml", []byte(doc), nil)
	ps := asProblems(t, err)
	want := []string{
		"3 server.listn config.unknown_key_hint",
		"4 server.colour config.unknown_key",
		"6 servr config.unknown_section_hint",
		"9 stuff config.unknown_section",
		"11 vpn.extra config.unknown_key",
	}
	if got := summary(ps); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if ps[0].Args[0] != "listen" || ps[2].Args[0] != "server" {
		t.Errorf("hints: %v %v", ps[0].Args, ps[2].Args)
	}
	if ps[0].Column != 1 {
		t.Errorf("column = %d", ps[0].Column)
	}
	text := ps[1].Text(catalog(t), "en")
	if !strings.HasPrefix(text, "rocca.toml:4: server.colour: no such key; the keys of [server] are: listen, public_url, ") {
		t.Errorf("text = %s", text)
	}
}

func TestKeysOutsideTheirPlace(t *testing.T) {
	_, err := Parse("rocca.toml", []byte("listen = \":443\"\nserver = 5\n"), nil)
	want := []string{"1 listen config.outside_section", "2 server config.want_table"}
	if got := summary(asProblems(t, err)); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	_, err = Parse("rocca.toml", []byte("\n[[vpn]]\nenabled = true\n"), nil)
	if got := summary(asProblems(t, err)); !slices.Equal(got, []string{"2 vpn config.want_table"}) {
		t.Errorf("array of tables: got %v", got)
	}
	// Dotted keys and inline tables are TOML too, and are located like the rest.
	_, err = Parse("rocca.toml", []byte("server.tls = \"no\"\nvpn = { mode = \"fast\" }\n"), nil)
	want = []string{"1 server.tls config.one_of", "2 vpn.mode config.one_of"}
	if got := summary(asProblems(t, err)); !slices.Equal(got, want) {
		t.Errorf("dotted/inline: got %v, want %v", got, want)
	}
}

func TestStrictTypes(t *testing.T) {
	doc := `[server]
listen = 8080
[vpn]
enabled = "yes"
listen_port = "51820"
mtu = 1420.5
lan = "192.168.1.0/24"
dns = [
  "192.168.1.1",
  53,
]
[meetings]
udp_port = 7882
`
	_, err := Parse("rocca.toml", []byte(doc), nil)
	ps := asProblems(t, err)
	want := []string{
		"2 server.listen config.want_string",
		"4 vpn.enabled config.want_bool",
		"5 vpn.listen_port config.want_int",
		"6 vpn.mtu config.want_int",
		"7 vpn.lan config.want_list",
		"10 vpn.dns[1] config.want_list_item",
	}
	if got := summary(ps); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// The value is shown as written.
	for i, arg := range []string{"8080", `"yes"`, `"51820"`, "1420.5", `"192.168.1.0/24"`, "53"} {
		if ps[i].Args[0] != arg {
			t.Errorf("%s: arg %v, want %s", ps[i].Key, ps[i].Args[0], arg)
		}
	}
	if got := ps[2].Text(catalog(t), "en"); got != `rocca.toml:5: vpn.listen_port: must be a whole number without quotes, not "51820"` {
		t.Errorf("text = %s", got)
	}
}

func TestSyntaxError(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		line      int
	}{
		{"missing value", "[server]\nlisten = \n[vpn]\nmode = \"x\"\n", 2},
		{"unclosed string", "[server]\n\nlisten = \"127.0.0.1:8080\n", 3},
		{"duplicate key", "[vpn]\nmode = \"auto\"\nmode = \"kernel\"\n", 3},
		{"duplicate table", "[vpn]\n[server]\n[vpn]\n", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("rocca.toml", []byte(tc.doc), nil)
			if cfg != nil {
				t.Error("config returned with a syntax error")
			}
			ps := asProblems(t, err)
			if len(ps) != 1 || ps[0].Msg != "config.syntax" || ps[0].Line != tc.line || ps[0].File != "rocca.toml" {
				t.Fatalf("got %+v", ps)
			}
			if text := ps[0].Text(catalog(t), "it"); !strings.HasPrefix(text, fmt.Sprintf("rocca.toml:%d: ", tc.line)) ||
				!strings.Contains(text, "errore di sintassi TOML: ") {
				t.Errorf("text = %s", text)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	doc := "[server]\nlisten = \"127.0.0.1:8080\"\n[vpn]\nlan = [\"192.168.1.0/24\"]\n"
	env := []string{
		"PATH=/usr/bin",
		"ROCCA_CONFIG=/etc/rocca/rocca.toml", // not a section: someone else's
		"ROCCA_E2E=1",
		"ROCCA_SERVER_LISTEN=:9000",
		"ROCCA_SERVER_PUBLIC_URL=https://rocca.comune.example.it",
		"ROCCA_VPN_LAN=10.0.0.0/8, 172.16.0.0/12,",
		"ROCCA_VPN_DNS=",
		"ROCCA_VPN_ENABLED=false",
		"ROCCA_VPN_LISTEN_PORT= 51821",
		"ROCCA_MUNICIPALITY_NAME=Comune di Prova",
	}
	cfg, err := Parse("rocca.toml", []byte(doc), env)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server.Listen = ":9000"
	want.Server.PublicURL = "https://rocca.comune.example.it"
	want.VPN.LAN = []string{"10.0.0.0/8", "172.16.0.0/12"}
	want.VPN.DNS = []string{}
	want.VPN.Enabled = false
	want.VPN.ListenPort = 51821
	want.Municipality.Name = "Comune di Prova"
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

func TestBadEnvOverrides(t *testing.T) {
	env := []string{
		"ROCCA_VPN_LISTEN_PORT=abc",
		"ROCCA_VPN_ENABLED=yes",
		"ROCCA_SERVER_LISTN=:80",
		"ROCCA_MAIL_COLOUR=blue",
		"ROCCA_SERVER_TLS=sì",
		"ROCCA_VPN_LAN=192.168.1.0/24,nonsense",
	}
	_, err := Parse("rocca.toml", []byte("[server]\ntls = \"off\"\n"), env)
	ps := asProblems(t, err)
	var got []string
	for _, p := range ps {
		got = append(got, fmt.Sprintf("%s %d %s %s", p.Env, p.Line, p.Key, p.Msg))
	}
	want := []string{
		"ROCCA_VPN_LISTEN_PORT 0 vpn.listen_port config.env_int",
		"ROCCA_VPN_ENABLED 0 vpn.enabled config.env_bool",
		"ROCCA_SERVER_LISTN 0  config.env_unknown_hint",
		"ROCCA_MAIL_COLOUR 0  config.env_unknown",
		"ROCCA_SERVER_TLS 0 server.tls config.one_of", // the value came from the environment, not line 2
		"ROCCA_VPN_LAN 0 vpn.lan[1] config.cidr",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cat := catalog(t)
	if text := ps[0].Text(cat, "en"); text != `ROCCA_VPN_LISTEN_PORT: vpn.listen_port: "abc" is not a whole number` {
		t.Errorf("text = %s", text)
	}
	if text := ps[2].Text(cat, "en"); text != `ROCCA_SERVER_LISTN: matches no key of [server]; did you mean ROCCA_SERVER_LISTEN?` {
		t.Errorf("text = %s", text)
	}
}

func TestLoadDefault(t *testing.T) {
	cfg, err := LoadDefault(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("LoadDefault(nil) differs from Default()")
	}
	cfg, err = LoadDefault([]string{"ROCCA_SERVER_DATA_DIR=/tmp/rocca", "ROCCA_MEETINGS_ENABLED=false"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.DataDir != "/tmp/rocca" || cfg.Meetings.Enabled || cfg.DatabasePath() != "/tmp/rocca/rocca.db" {
		t.Errorf("got %+v", cfg)
	}
	_, err = LoadDefault([]string{"ROCCA_VPN_SUBNET=10.86.0.0/8"})
	ps := asProblems(t, err)
	if len(ps) != 1 || ps[0].Env != "ROCCA_VPN_SUBNET" || ps[0].File != "" || ps[0].Msg != "config.subnet_size" {
		t.Errorf("got %+v", ps)
	}
	if text := ps[0].Text(catalog(t), "en"); !strings.HasPrefix(text, "ROCCA_VPN_SUBNET: vpn.subnet: /8 is not allowed") {
		t.Errorf("text = %s", text)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := Load(path, nil)
	ps := asProblems(t, err)
	if len(ps) != 1 || ps[0].Msg != "config.file_missing" || ps[0].File != path {
		t.Fatalf("got %+v", ps)
	}
	if got := err.Error(); got != fmt.Sprintf("%s: file %q does not exist", path, path) {
		t.Errorf("Error() = %s", got)
	}
	if cfg, ps := Check(path, nil, nil); cfg != nil || len(ps) != 1 {
		t.Errorf("Check: %v %+v", cfg, ps)
	}
}

func TestCheckReturnsWarningsAndErrors(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, dir, "smtp.pw", 0o644)
	path := filepath.Join(dir, "rocca.toml")
	doc := fmt.Sprintf("[mail]\nsmtp_password_file = %q\nsmtp_port = 0\n", pw)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, ps := Check(path, nil, nil)
	if cfg == nil || cfg.Mail.SMTPPasswordFile != pw {
		t.Fatalf("Check returned no config: %v", cfg)
	}
	want := []string{"2 mail.smtp_password_file config.secret_mode", "3 mail.smtp_port config.port", "0 vpn.endpoint config.endpoint_local"}
	if got := summary(ps); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if len(ps.Errors()) != 1 || len(ps.Warnings()) != 2 || !ps.HasErrors() {
		t.Errorf("errors %d warnings %d", len(ps.Errors()), len(ps.Warnings()))
	}
	if text := ps[0].Text(catalog(t), "it"); text != fmt.Sprintf("%s:2: attenzione: mail.smtp_password_file: il file %q è leggibile da altri utenti (permessi 0644); esegui: chmod 600 %s", path, pw, pw) {
		t.Errorf("text = %s", text)
	}
	// Load fails on the error only, and names only it.
	_, err := Load(path, nil)
	if got := summary(asProblems(t, err)); !slices.Equal(got, []string{"3 mail.smtp_port config.port"}) {
		t.Errorf("Load: %v", got)
	}
}

func TestTextWithoutCatalog(t *testing.T) {
	p := Problem{Severity: SeverityError, File: "rocca.toml", Line: 3, Key: "vpn.mtu", Msg: "config.range", Args: []any{9000, 1280, 1500}}
	if got := p.Text(nil, "en"); got != "rocca.toml:3: vpn.mtu: config.range 9000 1280 1500" {
		t.Errorf("got %s", got)
	}
}

func TestTooLarge(t *testing.T) {
	data := []byte(strings.Repeat("# a comment that goes on\n", maxFileSize/25+1))
	_, err := Parse("rocca.toml", data, nil)
	ps := asProblems(t, err)
	if len(ps) != 1 || ps[0].Msg != "config.too_large" || ps[0].Args[0] != len(data) {
		t.Errorf("got %+v", ps)
	}
	if _, err := Parse("rocca.toml", data[:maxFileSize], nil); err != nil {
		t.Errorf("a file of exactly the limit was refused: %v", err)
	}
}
