package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// These tests run the built binary's installer as an operator would: in an 80×24 tmux pane, typing
// the answers, and unattended with an answers file. Everything goes under a --prefix in a temp dir.

// needProgram returns the path of a program an end-to-end test needs: missing, the test fails
// under ROCCA_E2E=1 and is skipped otherwise, saying what is missing.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("ROCCA_E2E") == "1" {
		t.Fatalf("%s is not installed (apt-get install %s)", name, name)
	}
	t.Skipf("%s is not installed (apt-get install %s); set ROCCA_E2E=1 to make this a failure", name, name)
	return ""
}

// runRocca runs the binary with stdin and returns stdout, stderr and the exit code.
func runRocca(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(roccaBin(t), args...)
	cmd.Env = append(os.Environ(), "ROCCA_LANG=it")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// fileHashes maps every file under dir to its SHA-256.
func fileHashes(t *testing.T, dir string) map[string]string {
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

func sameHashes(t *testing.T, before, after map[string]string) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("files before %d, after %d", len(before), len(after))
	}
	for path, sum := range before {
		if after[path] != sum {
			t.Errorf("%s changed", path)
		}
	}
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// adminInDB reads the user with email back from the installed database.
func adminInDB(t *testing.T, dbPath, email string) *rocca.User {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat, _ := i18n.New()
	svc, err := auth.NewService(db, cat, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("admin %s not in %s: %v", email, dbPath, err)
	}
	return u
}

// pane is a tmux server of the test's own with one 80×24 pane running a command.
type pane struct {
	t      *testing.T
	tmux   string
	socket string
}

var paneSeq int

func newPane(t *testing.T, env []string, args ...string) *pane {
	t.Helper()
	paneSeq++
	p := &pane{t: t, tmux: needProgram(t, "tmux"), socket: fmt.Sprintf("rocca-test-%d-%d", os.Getpid(), paneSeq)}
	quoted := make([]string, 0, len(args))
	for _, a := range append(append([]string{"env"}, env...), args...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	// The shell keeps the pane (and its scroll-back) after the installer exits, and says how.
	script := strings.Join(quoted, " ") + `; echo "rocca-exit=$?"; sleep 3600`
	p.run("new-session", "-d", "-x", "80", "-y", "24", "sh", "-c", script)
	t.Cleanup(func() {
		exec.Command(p.tmux, "-L", p.socket, "kill-server").Run()
		os.Remove(p.socketPath()) // kill-server leaves the socket file behind
	})
	return p
}

// socketPath is where tmux keeps the server's socket (-L name).
func (p *pane) socketPath() string {
	dir := os.Getenv("TMUX_TMPDIR")
	if dir == "" {
		dir = "/tmp"
	}
	return filepath.Join(dir, fmt.Sprintf("tmux-%d", os.Getuid()), p.socket)
}

func (p *pane) run(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, append([]string{"-L", p.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// screen is the visible pane; all adds the scroll-back; escapes keeps the colours.
func (p *pane) screen() string   { return p.run("capture-pane", "-p", "-J") }
func (p *pane) all() string      { return p.run("capture-pane", "-p", "-J", "-S", "-") }
func (p *pane) escapes() string  { return p.run("capture-pane", "-p", "-e") }
func (p *pane) keys(k ...string) { p.run(append([]string{"send-keys", "-t", "0"}, k...)...) }
func (p *pane) typeText(s string) {
	p.run("send-keys", "-t", "0", "-l", s)
}

// waitFor polls the pane (and its scroll-back) until it shows text.
func (p *pane) waitFor(text string) string {
	p.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		if s = p.all(); strings.Contains(s, text) {
			return s
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	p.t.Fatalf("the pane never showed %q; it shows:\n%s", text, p.screen())
	return ""
}

// answer waits until the question has the focus (huh marks it with ┃), types and presses a key.
func (p *pane) answer(title, text string, key ...string) {
	p.t.Helper()
	p.waitFor("┃ " + title)
	if text != "" {
		p.typeText(text)
	}
	p.keys(append(key, "Enter")[0])
}

var exitRe = regexp.MustCompile(`rocca-exit=(\d+)`)

// exitCode waits for the installer to end and returns its exit code.
func (p *pane) exitCode() int {
	p.t.Helper()
	m := exitRe.FindStringSubmatch(p.waitFor("rocca-exit="))
	n, _ := strconv.Atoi(m[1])
	return n
}

var paneEnv = []string{"TERM=xterm-256color", "LANG=C.UTF-8", "ROCCA_LANG=it"}

// TestInstallInTmux installs with the wizard as a person would, then runs it again with the
// same answers (Enter everywhere) and finds nothing changed.
func TestInstallInTmux(t *testing.T) {
	prefix := t.TempDir()
	bin := roccaBin(t)
	vpnPort, mediaPort := freeUDPPort(t), freeUDPPort(t)
	p := newPane(t, paneEnv, bin, "install", "--prefix", prefix)
	p.waitFor("Controlli del sistema")
	p.waitFor("Invio: continua")
	p.keys("Enter")
	p.answer("Nome del Comune", "Comune di Prova")
	p.answer("Codice IPA", "c_h501", "Tab")
	p.answer("Nome pubblico del server", "localhost")
	p.waitFor("┃ Certificato HTTPS")
	p.keys("Home", "Down") // the second choice: self-signed
	p.keys("Enter")
	p.answer("E-mail dell'amministratore", "it@comune.prova.it")
	p.answer("Nome e cognome", "Anna Rossi")
	p.answer("Password", "una password lunga")
	p.answer("Ripeti la password", "una password lunga")
	p.answer("Attivare la VPN?", "")
	p.answer("Porta UDP della VPN", strconv.Itoa(vpnPort))
	p.answer("Rete interna della VPN", "")
	p.answer("Reti del Comune raggiungibili", "192.168.50.0/24", "Tab")
	p.answer("Attivare le riunioni?", "")
	p.answer("Indirizzo IP pubblico", "")
	p.answer("Porta per audio e video", strconv.Itoa(mediaPort))
	p.answer("Configurare ora la casella?", "")
	p.waitFor("Invio: installa")
	p.keys("Enter")
	if code := p.exitCode(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, p.all())
	}
	out := p.all()
	for _, want := range []string{"Rocca è installato.", "it@comune.prova.it, con la password scelta", "Impronta del certificato"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	checkInstalled(t, prefix, "it@comune.prova.it")
	before := fileHashes(t, prefix)

	p = newPane(t, paneEnv, bin, "install", "--prefix", prefix)
	p.waitFor("già installato")
	p.waitFor("Invio: continua")
	p.keys("Enter")
	for _, title := range []string{"Nome del Comune", "Codice IPA", "Nome pubblico del server", "Certificato HTTPS",
		"E-mail dell'amministratore", "Nome e cognome", "Password", "Ripeti la password", "Attivare la VPN?",
		"Porta UDP della VPN", "Rete interna della VPN", "Reti del Comune raggiungibili", "Attivare le riunioni?",
		"Indirizzo IP pubblico", "Porta per audio e video", "Configurare ora la casella?"} {
		p.answer(title, "")
	}
	p.waitFor("Nessuna modifica")
	p.keys("Enter")
	if code := p.exitCode(); code != 0 {
		t.Fatalf("second run: exit code %d:\n%s", code, p.all())
	}
	if !strings.Contains(p.all(), "Nessuna modifica: Rocca era già installato con queste risposte.") {
		t.Errorf("second run does not say that nothing changed:\n%s", p.all())
	}
	sameHashes(t, before, fileHashes(t, prefix))
}

// checkInstalled finds a valid config, the admin in the database and the unit under prefix.
func checkInstalled(t *testing.T, prefix, email string) {
	t.Helper()
	paths := installer.NewPaths(prefix)
	if out, errOut, code := runRocca(t, "", "config", "check", paths.Config); code != 0 {
		t.Errorf("config check: exit %d\n%s%s", code, out, errOut)
	}
	if u := adminInDB(t, filepath.Join(paths.DataDir, "rocca.db"), email); u.Role != rocca.RoleAdmin {
		t.Errorf("admin has role %s", u.Role)
	}
	unit, err := os.ReadFile(paths.Unit)
	if err != nil || !strings.Contains(string(unit), "ExecStart="+paths.Binary+" serve --config "+paths.Config) {
		t.Errorf("unit file: %v\n%s", err, unit)
	}
}

// TestInstallWizardLinuxConsoleNoColor: TERM=linux draws ASCII borders, NO_COLOR removes colours,
// and Ctrl+C asks before leaving (exit code 4, nothing written).
func TestInstallWizardLinuxConsoleNoColor(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "root")
	p := newPane(t, []string{"TERM=linux", "NO_COLOR=1", "LANG=C.UTF-8", "ROCCA_LANG=it"}, roccaBin(t), "install", "--prefix", prefix)
	p.waitFor("Invio: continua")
	shown := p.escapes()
	if strings.ContainsAny(shown, "─┃╭│") || !strings.Contains(shown, "--------") {
		t.Errorf("TERM=linux screen is not ASCII:\n%s", shown)
	}
	if c := colourCodes(shown); len(c) > 0 {
		t.Errorf("NO_COLOR screen has colour codes %q", c)
	}
	p.keys("C-c")
	p.waitFor("Vuoi uscire?")
	p.keys("s")
	if code := p.exitCode(); code != exitCancelled {
		t.Errorf("exit code %d, want %d", code, exitCancelled)
	}
	if _, err := os.Stat(prefix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cancelled wizard wrote under the prefix: %v", err)
	}
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;]*)m`)

// colourCodes returns the SGR sequences that set a colour.
func colourCodes(s string) []string {
	var found []string
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.Split(m[1], ";") {
			if n, err := strconv.Atoi(p); err == nil && (n >= 30 && n <= 38 || n >= 40 && n <= 48 || n >= 90 && n <= 107) {
				found = append(found, m[0])
				break
			}
		}
	}
	return found
}

// writeAnswers writes an answers file (and the admin's password file) in dir.
func writeAnswers(t *testing.T, dir, extra string) string {
	t.Helper()
	pw := filepath.Join(dir, "admin.password")
	if err := os.WriteFile(pw, []byte("una password lunga\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`[server]
public_url = "https://localhost"
tls = "self-signed"

[municipality]
name = "Comune di Prova"

[vpn]
listen_port = %d
lan = ["192.168.50.0/24"]

[meetings]
udp_port = %d
%s
[admin]
email = "it@comune.prova.it"
name = "Anna Rossi"
password_file = %q
`, freeUDPPort(t), freeUDPPort(t), extra, pw)
	path := filepath.Join(dir, "answers.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInstallUnattended(t *testing.T) {
	dir, prefix := t.TempDir(), t.TempDir()
	answers := writeAnswers(t, dir, "")
	out, errOut, code := runRocca(t, "", "install", "--answers", answers, "--prefix", prefix, "--dry-run")
	if code != 0 || !strings.Contains(out, "Prova (--dry-run): nulla è stato modificato.") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(prefix); len(entries) != 0 {
		t.Fatalf("the dry run wrote %d entries", len(entries))
	}
	out, errOut, code = runRocca(t, "", "install", "--answers", answers, "--prefix", prefix)
	if code != 0 || !strings.Contains(out, "Rocca è installato.") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	checkInstalled(t, prefix, "it@comune.prova.it")
	before := fileHashes(t, prefix)
	out, errOut, code = runRocca(t, "", "install", "--answers", answers, "--prefix", prefix)
	if code != 0 || !strings.Contains(out, "Nessuna modifica") {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errOut)
	}
	sameHashes(t, before, fileHashes(t, prefix))

	out, errOut, code = runRocca(t, "", "--config", installer.NewPaths(prefix).Config, "doctor", "--json")
	var doc struct {
		Version int
		Status  string
		Checks  []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Version != 1 || len(doc.Checks) != len(installer.CheckIDs()) {
		t.Fatalf("doctor --json (exit %d): %v\n%s%s", code, err, out, errOut)
	}
	if (code == 0) != (doc.Status != "blocker") {
		t.Errorf("doctor exit %d with status %s", code, doc.Status)
	}
}

func TestInstallAnswersWithWrongValueChangesNothing(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "root")
	answers := writeAnswers(t, dir, "\n[helpdesk]\nimap_port = 99999\n")
	out, errOut, code := runRocca(t, "", "install", "--answers", answers, "--prefix", prefix)
	if code != exitError {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"answers.toml:16: helpdesk.imap_port", "99999", "Nulla è stato modificato"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(prefix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("something was written: %v", err)
	}
}

func TestInstallWithoutTerminalNeedsAnswers(t *testing.T) {
	_, errOut, code := runRocca(t, "", "install", "--prefix", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, "--answers FILE") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	_, errOut, code = runRocca(t, "", "install", "--force", "nonsense")
	if code != exitUsage || !strings.Contains(errOut, "controllo sconosciuto nonsense") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
