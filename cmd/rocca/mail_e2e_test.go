package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/internal/adminapi"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// mailServer is the part of a running Rocca that `rocca mail` talks to: the mail accounts and
// their admin routes on a real admin socket, in the test process. (server.go mounts the same
// AdminRoutes; this keeps the test independent of the rest of the wiring.)
type mailServer struct {
	config   string
	accounts *mail.Accounts
}

func startMailServer(t *testing.T, p *oauthtest.Provider) *mailServer {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o700)
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, filepath.Join(data, "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, mail.Migrations()); err != nil {
		t.Fatal(err)
	}
	s := mail.NewAccounts(db, mail.AccountsOptions{DataDir: data, PublicURL: "http://127.0.0.1:8080"})
	if _, err := s.Add(ctx, mail.AccountConfig{Name: "helpdesk", Uses: []string{"IMAP"}, User: p.Email, Method: mail.MethodOAuth2,
		OAuth2: mail.OAuth2Config{Provider: mail.ProviderGeneric, ClientID: oauthtest.ClientID, AuthURL: p.AuthURL(),
			TokenURL: p.TokenURL(), DeviceURL: p.DeviceURL(), Scopes: []string{"mail", "offline_access"}}}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(data, "admin.sock")
	srv := adminapi.NewServer(sock, discardLog())
	s.AdminRoutes(srv, discardLog())
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { srv.Serve(ctx); done <- struct{}{} }()
	go func() { s.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		db.Close()
	})
	cfg := filepath.Join(dir, "rocca.toml")
	body := fmt.Sprintf("[server]\ndata_dir = %q\nadmin_socket = %q\n\n[vpn]\nenabled = false\n\n[meetings]\nenabled = false\n\n[helpdesk]\nenabled = false\n", data, sock)
	if err := os.WriteFile(cfg, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
	return &mailServer{config: cfg, accounts: s}
}

// mailPane runs one command in an 80×24 pane of a tmux server of the test's own.
type mailPane struct {
	t            *testing.T
	tmux, socket string
}

var mailPaneSeq int

func newMailPane(t *testing.T, args ...string) *mailPane {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("ROCCA_E2E") == "1" {
			t.Fatal("tmux is not installed (apt-get install tmux)")
		}
		t.Skip("tmux is not installed (apt-get install tmux); set ROCCA_E2E=1 to make this a failure")
	}
	mailPaneSeq++
	p := &mailPane{t: t, tmux: tmux, socket: fmt.Sprintf("rocca-mail-%d-%d", os.Getpid(), mailPaneSeq)}
	quoted := []string{"env", "TERM=xterm-256color", "LANG=C.UTF-8", "ROCCA_LANG=it"}
	for _, a := range args {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	p.tmuxDo("new-session", "-d", "-x", "80", "-y", "24", "sh", "-c", strings.Join(quoted, " ")+`; echo "rocca-exit=$?"; sleep 3600`)
	t.Cleanup(func() {
		exec.Command(tmux, "-L", p.socket, "kill-server").Run()
		dir := os.Getenv("TMUX_TMPDIR")
		if dir == "" {
			dir = "/tmp"
		}
		os.Remove(filepath.Join(dir, fmt.Sprintf("tmux-%d", os.Getuid()), p.socket))
	})
	return p
}

func (p *mailPane) tmuxDo(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, append([]string{"-L", p.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// waitFor polls the pane and its scroll-back until text shows; the deadline only keeps a broken
// test from hanging.
func (p *mailPane) waitFor(text string) string {
	p.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		if s = p.tmuxDo("capture-pane", "-p", "-J", "-S", "-"); strings.Contains(s, text) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("the pane never showed %q; it shows:\n%s", text, s)
	return ""
}

var userCodeRe = regexp.MustCompile(`(?m)^\s+([B-Z]{4}-[B-Z]{4})\s*$`)

// code waits for the device code the CLI prints.
func (p *mailPane) code() string {
	p.t.Helper()
	s := p.waitFor("In attesa dell'approvazione")
	m := userCodeRe.FindStringSubmatch(s)
	if m == nil {
		p.t.Fatalf("no code in the pane:\n%s", s)
	}
	return m[1]
}

// TestMailLoginInTmux is acceptance 2: `rocca mail login` in a terminal shows the URL and the
// code; the test approves at its provider, which first answers authorization_pending and
// slow_down; the CLI says it slows down, then that the account is connected, and `rocca mail
// status` shows it ready. A refusal at the provider and a code that expires end with the right
// Italian message and exit code 1.
func TestMailLoginInTmux(t *testing.T) {
	p := oauthtest.New(t)
	srv := startMailServer(t, p)
	bin := roccaBin(t)

	pane := newMailPane(t, bin, "--config", srv.config, "mail", "login")
	code := pane.code()
	screen := pane.waitFor(p.URL + "/device/verify")
	if !strings.Contains(screen, "Per collegare l'account di posta «helpdesk»") || !strings.Contains(screen, "Ctrl-C per annullare") {
		t.Errorf("the CLI does not explain what to do:\n%s", screen)
	}
	p.ScriptDevice(code, "authorization_pending", "slow_down")
	p.ApproveDevice(code)
	pane.waitFor("prossimo controllo ogni 6 secondi")
	screen = pane.waitFor("rocca-exit=")
	if !strings.Contains(screen, "Fatto: account «helpdesk» collegato come "+p.Email+".") || !strings.Contains(screen, "rocca-exit=0") ||
		!strings.Contains(screen, "Permessi concessi: mail offline_access") {
		t.Fatalf("after approval:\n%s", screen)
	}
	polls := p.DevicePolls(code)
	if len(polls) != 3 || polls[2].At.Sub(polls[1].At) < 6*time.Second-100*time.Millisecond {
		t.Errorf("polls = %+v: want pending, slow_down, then a token at least 6 s later", polls)
	}
	out, stderr, exit := runMail(t, srv.config, "mail", "status")
	if exit != 0 || !strings.Contains(out, "helpdesk") || !strings.Contains(out, "oauth2 (generic)") || !strings.Contains(out, "pronto") ||
		!strings.Contains(out, p.Email) {
		t.Errorf("mail status = %d\n%s%s", exit, out, stderr)
	}

	denied := newMailPane(t, bin, "--config", srv.config, "mail", "login", "--account", "helpdesk")
	p.DenyDevice(denied.code())
	screen = denied.waitFor("rocca-exit=")
	if !strings.Contains(screen, "Accesso negato") || !strings.Contains(screen, "rocca-exit=1") {
		t.Errorf("denied:\n%s", screen)
	}

	p.Set(func(p *oauthtest.Provider) { p.DeviceTTL = 3 * time.Second })
	expired := newMailPane(t, bin, "--config", srv.config, "mail", "login", "--account", "helpdesk")
	expired.code() // nobody approves
	screen = expired.waitFor("rocca-exit=")
	if !strings.Contains(screen, "Il codice è scaduto") || !strings.Contains(screen, "rocca-exit=1") {
		t.Errorf("expired:\n%s", screen)
	}
	// The first sign-in is still there after the two failed ones.
	if out, _, _ := runMail(t, srv.config, "mail", "status", "--json"); !strings.Contains(out, `"state": "ready"`) {
		t.Errorf("status after failed sign-ins:\n%s", out)
	}
}

// runMail runs the binary with the config and returns stdout, stderr and the exit code.
func runMail(t *testing.T, config string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(roccaBin(t), append([]string{"--config", config}, args...)...)
	cmd.Env = append(os.Environ(), "ROCCA_LANG=it")
	var out, errb strings.Builder
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

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
