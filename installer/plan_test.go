package installer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// newTestInstaller returns an installer under a prefix in a temp dir, with a small file standing
// in for the binary.
func newTestInstaller(t *testing.T, sys System) *Installer {
	t.Helper()
	prefix := t.TempDir()
	inst, err := New(sys, NewPaths(prefix), testCatalog(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	inst.Exe = filepath.Join(t.TempDir(), "rocca")
	if err := os.WriteFile(inst.Exe, []byte("#!/bin/sh\necho rocca\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return inst
}

func testAnswers(paths Paths) *Answers {
	cfg := testConfig(paths.DataDir)
	cfg.Helpdesk.Address = "helpdesk@comune.esempio.it"
	a := &Answers{Config: cfg, Admin: config.Admin{Email: "it@comune.esempio.it", Name: "Ufficio IT"},
		AdminPassword: "una password lunga"}
	a.Normalize(paths)
	return a
}

// hashTree returns the SHA-256 of every file under dir.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sums[path] = fmt.Sprintf("%x", sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func actions(changes []Change) map[string]Action {
	m := map[string]Action{}
	for _, c := range changes {
		m[c.Step] = c.Action
	}
	return m
}

func plan(t *testing.T, inst *Installer, a *Answers) *Plan {
	t.Helper()
	p, err := inst.Plan(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	cat := testCatalog(t)
	for _, c := range p.Changes() {
		for _, lang := range []string{"it", "en"} {
			if !cat.Has(lang, c.Msg) || strings.Contains(c.Text(cat, lang), "%!") {
				t.Errorf("step %s: message %q bad in %s: %s", c.Step, c.Msg, lang, c.Text(cat, lang))
			}
		}
	}
	return p
}

func TestInstallUnderPrefixThenNoChange(t *testing.T) {
	inst := newTestInstaller(t, goodSys())
	a := testAnswers(inst.Paths)
	p := plan(t, inst, a)
	want := map[string]Action{"user": Skip, "binary": Create, "datadir": Create, "config": Create, "keys": Create,
		"tls": Create, "database": Create, "ownership": Skip, "forwarding": Create, "unit": Create, "service": Skip, "health": Skip}
	if got := actions(p.Changes()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("first plan:\n got %v\nwant %v", got, want)
	}
	if entries, _ := os.ReadDir(inst.Paths.Prefix); len(entries) != 0 {
		t.Fatalf("planning wrote %d entries", len(entries))
	}
	if err := p.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, inst, a)
	before := hashTree(t, inst.Paths.Prefix)

	again := plan(t, inst, testAnswers(inst.Paths))
	if again.Changed() {
		t.Errorf("second plan changes something: %v", actions(again.Changes()))
	}
	if err := again.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if after := hashTree(t, inst.Paths.Prefix); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a run with the same answers changed files:\nbefore %v\nafter  %v", before, after)
	}
}

func assertInstalled(t *testing.T, inst *Installer, a *Answers) {
	t.Helper()
	st, err := os.Stat(inst.Paths.Config)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("config: %v, mode %v", err, st.Mode())
	}
	cfg, err := config.Load(inst.Paths.Config, nil)
	if err != nil {
		t.Fatalf("written config does not load: %v", err)
	}
	if cfg.Server.DataDir != a.Config.Server.DataDir || cfg.Municipality.Name != "Comune di Esempio" {
		t.Errorf("config: %+v", cfg.Server)
	}
	if st, err := os.Stat(filepath.Join(a.Config.Server.DataDir, "keys", "auth.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("auth key: %v", err)
	}
	unit, err := os.ReadFile(inst.Paths.Unit)
	if err != nil || !strings.Contains(string(unit), "ExecStart="+inst.Paths.Binary+" serve --config "+inst.Paths.Config) {
		t.Errorf("unit: %v\n%s", err, unit)
	}
	u := adminOf(t, a.Config, a.Admin.Email)
	if u.Role != rocca.RoleAdmin || u.Name != "Ufficio IT" {
		t.Errorf("admin: %+v", u)
	}
}

// adminOf reads the user back through the auth service.
func adminOf(t *testing.T, cfg *config.Config, email string) *rocca.User {
	t.Helper()
	db, err := sqlite.Open(context.Background(), cfg.DatabasePath())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := auth.NewService(db, testCatalog(t), slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestKeysAndAdminAreNeverReplaced(t *testing.T) {
	inst := newTestInstaller(t, goodSys())
	a := testAnswers(inst.Paths)
	if err := plan(t, inst, a).Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(a.Config.Server.DataDir, "keys", "auth.key")
	key, _ := os.ReadFile(keyPath)
	cert, _ := os.ReadFile(filepath.Join(a.Config.Server.DataDir, "tls", "self-signed.crt"))

	b := testAnswers(inst.Paths)
	b.Config.Municipality.Name = "Comune di Altrove"
	b.AdminPassword = "un'altra password lunga"
	p := plan(t, inst, b)
	got := actions(p.Changes())
	if got["config"] != Update || got["keys"] != Keep || got["tls"] != Keep || got["database"] != Keep {
		t.Fatalf("changed answers: %v", got)
	}
	if err := p.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	key2, _ := os.ReadFile(keyPath)
	cert2, _ := os.ReadFile(filepath.Join(a.Config.Server.DataDir, "tls", "self-signed.crt"))
	if string(key) != string(key2) || string(cert) != string(cert2) {
		t.Error("a second run regenerated the key or the certificate")
	}
	if p.Outcome.AdminCreated || p.Outcome.CertFingerprint == "" {
		t.Errorf("outcome %+v", p.Outcome)
	}
}

func TestAdminWithoutPasswordGetsLink(t *testing.T) {
	inst := newTestInstaller(t, goodSys())
	a := testAnswers(inst.Paths)
	a.AdminPassword = ""
	p := plan(t, inst, a)
	if err := p.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Outcome.AdminLink, "https://rocca.comune.esempio.it/password/") {
		t.Errorf("link %q", p.Outcome.AdminLink)
	}
	var b strings.Builder
	WriteSummary(&b, inst.Cat, "it", a, p)
	if !strings.Contains(b.String(), p.Outcome.AdminLink) || !strings.Contains(b.String(), "TCP 443, UDP 51820") {
		t.Errorf("summary:\n%s", b.String())
	}
}

func TestInterruptedApplyConverges(t *testing.T) {
	inst := newTestInstaller(t, goodSys())
	a := testAnswers(inst.Paths)
	ctx, cancel := context.WithCancel(context.Background())
	p := plan(t, inst, a)
	err := p.Apply(ctx, func(ev Event) {
		if ev.Change.Step == "config" && ev.State == StepDone {
			cancel() // Ctrl+C confirmed while the config was written
		}
	})
	if err == nil {
		t.Fatal("Apply went on after the cancel")
	}
	if exists(a.Config.DatabasePath()) {
		t.Error("a step after the cancel ran")
	}
	if err := plan(t, inst, a).Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, inst, a)
	if plan(t, inst, a).Changed() {
		t.Error("not converged after the second run")
	}
}

// TestRealSystemSteps runs the steps of a real install against the fake system, with every path
// in a temp dir: the user is created, files get their owners, systemd is asked to enable and
// restart the unit, and the installer waits for /healthz.
func TestRealSystemSteps(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok"))
		}
	}))
	defer healthy.Close()
	f := goodSys()
	f.has["sysctl"] = true
	f.failCmd["systemctl is-"] = fmt.Errorf("exit status 3") // not active, not enabled yet
	inst := newTestInstaller(t, f)
	root := inst.Paths.Prefix
	inst.Paths = Paths{Config: root + "/etc/rocca/rocca.toml", EtcDir: root + "/etc/rocca", DataDir: root + "/var/lib/rocca",
		Unit: root + "/etc/systemd/system/rocca.service", Binary: root + "/usr/local/bin/rocca", Sysctl: root + "/etc/sysctl.d/90-rocca.conf"}
	f.users[ServiceUser] = [2]int{os.Getuid(), os.Getgid()} // owners a test may set
	a := testAnswers(inst.Paths)
	a.Config.Server.TLS = config.TLSOff
	a.Config.Server.Listen = healthy.Listener.Addr().String()
	p := plan(t, inst, a)
	got := actions(p.Changes())
	if got["user"] != Keep || got["ownership"] != Update || got["service"] != Create || got["health"] != Create {
		t.Fatalf("plan %v", got)
	}
	if err := p.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	cmds := strings.Join(f.commands, "\n")
	for _, want := range []string{"sysctl -p " + inst.Paths.Sysctl, "systemctl daemon-reload", "systemctl enable rocca.service", "systemctl restart rocca.service"} {
		if !strings.Contains(cmds, want) {
			t.Errorf("missing command %q in\n%s", want, cmds)
		}
	}
	if !p.Outcome.ServiceStarted || !p.Outcome.Healthy {
		t.Errorf("outcome %+v", p.Outcome)
	}
}

func TestUserIsCreatedWhenMissing(t *testing.T) {
	f := goodSys()
	p := &Plan{inst: &Installer{Sys: f, Paths: Paths{DataDir: "/var/lib/rocca"}}}
	c, err := userStep{}.plan(context.Background(), p)
	if err != nil || c.Action != Create {
		t.Fatalf("plan %v %v", c, err)
	}
	if err := (userStep{}).apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	want := "useradd --system --user-group --no-create-home --home-dir /var/lib/rocca --shell /usr/sbin/nologin --comment Rocca rocca"
	if len(f.commands) != 1 || f.commands[0] != want {
		t.Errorf("commands %q", f.commands)
	}
}

func TestHealthTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing answers there
	cfg := config.Default()
	cfg.Server.Listen = addr
	if err := waitHealthy(context.Background(), cfg, 1500*time.Millisecond); err != ErrNotHealthy {
		t.Errorf("err %v", err)
	}
}
