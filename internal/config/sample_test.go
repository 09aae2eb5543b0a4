package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/internal/i18n"
)

var update = flag.Bool("update", false, "rewrite docs/rocca.sample.toml from Default() and the catalog")

const samplePath = "../../docs/rocca.sample.toml"

func catalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func render(t *testing.T, cfg *Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, cfg, catalog(t)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The sample is Write(Default()): the file, the defaults and the comments cannot drift apart.
// Regenerate with: go test -tags sqlite_fts5 ./internal/config -run TestSample -update
func TestSampleIsTheRenderedDefaults(t *testing.T) {
	want := render(t, Default())
	if *update {
		if err := os.WriteFile(samplePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from Write(Default()); run go test -tags sqlite_fts5 ./internal/config -run TestSample -update\n--- got\n%s\n--- want\n%s", samplePath, got, want)
	}
}

func TestSampleParsesToDefault(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("rocca.sample.toml", data, nil)
	if err != nil {
		t.Fatalf("the sample does not load: %v", err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("sample and Default() disagree:\nsample  %+v\ndefault %+v", cfg, Default())
	}
}

func TestSampleHasEveryKeyWithBilingualComment(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	pos := index(data)
	lines := strings.Split(string(data), "\n")
	for _, sec := range sectionsOf(Default(), nil) {
		if _, ok := pos[sec.name]; !ok {
			t.Errorf("section [%s] is missing from the sample", sec.name)
		}
		for _, key := range sec.keys() {
			full := sec.name + "." + key
			at, ok := pos[full]
			if !ok {
				t.Errorf("key %s is missing from the sample", full)
				continue
			}
			// Two comment lines right above the key: Italian, then English.
			if at.line < 3 || !strings.HasPrefix(lines[at.line-3], "# ") || !strings.HasPrefix(lines[at.line-2], "# ") {
				t.Errorf("key %s (line %d) lacks its Italian and English comment lines", full, at.line)
			}
		}
	}
}

func TestEveryKeyHasHelpInBothLanguages(t *testing.T) {
	cat := catalog(t)
	keys := []string{"config.help.header"}
	for _, sec := range sectionsOf(Default(), nil) {
		keys = append(keys, "config.help."+sec.name)
		for _, k := range sec.keys() {
			keys = append(keys, "config.help."+sec.name+"."+k)
		}
	}
	for _, k := range keys {
		for _, lang := range i18n.Languages() {
			if !cat.Has(lang, k) {
				t.Errorf("%s is missing in messages.%s.toml", k, lang)
			}
		}
	}
}

// Every catalog key the package's code names must exist in both languages; problems carry keys as
// data, which the repository-wide catalog test cannot see.
func TestEveryMessageKeyIsInTheCatalog(t *testing.T) {
	cat := catalog(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	literal := regexp.MustCompile(`"(config\.[a-z_.]+[a-z_])"`)
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(body), -1) {
			if m[1] == "config.help." {
				continue
			}
			found++
			for _, lang := range i18n.Languages() {
				if !cat.Has(lang, m[1]) {
					t.Errorf("%s names %q, missing in messages.%s.toml", f, m[1], lang)
				}
			}
		}
	}
	if found < 40 {
		t.Errorf("found only %d message keys in the code; the pattern is broken", found)
	}
}

func TestWriteRoundTrips(t *testing.T) {
	dir := t.TempDir()
	cert := writeFile(t, dir, "cert.pem", 0o600)
	key := writeFile(t, dir, "key.pem", 0o600)
	pw := writeFile(t, dir, "imap.pw", 0o600)
	cfg := Default()
	cfg.Server.Listen = ":443"
	cfg.Server.PublicURL = "https://rocca.comune.example.it"
	cfg.Server.TLS = TLSFiles
	cfg.Server.CertFile, cfg.Server.KeyFile = cert, key
	cfg.Municipality.Name = `Comune di "Sant'Anna"\ Alta`
	cfg.VPN.Enabled = false
	cfg.VPN.DNS = []string{"192.168.1.1", "192.168.1.2"}
	cfg.VPN.LAN = []string{}
	cfg.Helpdesk.Address = "helpdesk@comune.example.it"
	cfg.Helpdesk.IMAPHost = "mail.comune.example.it"
	cfg.Helpdesk.IMAPUser = "helpdesk"
	cfg.Helpdesk.IMAPPasswordFile = pw
	cfg.Mail.SMTPHost = "mail.comune.example.it"
	cfg.Mail.From = "Helpdesk <helpdesk@comune.example.it>"
	got, err := Parse("written.toml", render(t, cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("round trip changed the config:\ngot  %+v\nwant %+v", got, cfg)
	}
}

func TestHelpers(t *testing.T) {
	cfg := Default()
	if got := cfg.AdminSocketPath(); got != filepath.Join("rocca-data", "admin.sock") {
		t.Errorf("AdminSocketPath = %q", got)
	}
	if got := cfg.DatabasePath(); got != filepath.Join("rocca-data", "rocca.db") {
		t.Errorf("DatabasePath = %q", got)
	}
	if got := cfg.VPNEndpoint(); got != "127.0.0.1:51820" {
		t.Errorf("VPNEndpoint = %q", got)
	}
	cfg.Server.AdminSocket = "/run/rocca/admin.sock"
	cfg.Server.PublicURL = "https://rocca.comune.example.it:8443/"
	cfg.VPN.ListenPort = 443
	if got := cfg.AdminSocketPath(); got != "/run/rocca/admin.sock" {
		t.Errorf("AdminSocketPath = %q", got)
	}
	if got := cfg.VPNEndpoint(); got != "rocca.comune.example.it:443" {
		t.Errorf("VPNEndpoint = %q", got)
	}
	cfg.VPN.Endpoint = "vpn.comune.example.it:51820"
	if got := cfg.VPNEndpoint(); got != "vpn.comune.example.it:51820" {
		t.Errorf("VPNEndpoint = %q", got)
	}
	cfg.Server.PublicURL = "http://[2001:db8::1]"
	cfg.VPN.Endpoint = ""
	if got := cfg.VPNEndpoint(); got != "[2001:db8::1]:443" {
		t.Errorf("VPNEndpoint = %q", got)
	}
}

func TestDefaultIsValid(t *testing.T) {
	if ps := Default().Validate(nil); ps.HasErrors() {
		t.Errorf("Default() has errors:\n%s", ps.Text(catalog(t), "en"))
	}
}

func writeFile(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("secret\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask must not soften the test
		t.Fatal(err)
	}
	return path
}
