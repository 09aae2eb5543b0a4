package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// freePort finds a port free for both TCP and UDP on 127.0.0.1 (the SFU takes both).
func freePort() (int, error) {
	for range 50 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		ln.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port on 127.0.0.1")
}

func (b *bench) writeConfig() error {
	var ports [4]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return err
		}
		ports[i] = p
	}
	b.base = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	b.udpPort = ports[2]
	cfg := fmt.Sprintf(`# Written by meetbench: meetings only, on loopback.
[server]
listen = "127.0.0.1:%d"
public_url = %q
data_dir = %q
metrics_listen = "127.0.0.1:%d"

[municipality]
name = "Comune di Prova"

[vpn]
enabled = false

[meetings]
enabled = true
udp_port = %d
turn_port = %d

[helpdesk]
enabled = false
`, ports[0], b.base, filepath.Join(b.dir, "data"), ports[1], ports[2], ports[3])
	b.config = filepath.Join(b.dir, "rocca.toml")
	return os.WriteFile(b.config, []byte(cfg), 0o600)
}

// startServer runs `rocca serve` and waits until /healthz answers.
func (b *bench) startServer(ctx context.Context) error {
	f, err := os.OpenFile(filepath.Join(b.dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	b.log = f
	cmd := exec.Command(b.o.bin, "serve", "--config", b.config)
	cmd.Env = append(os.Environ(), "ROCCA_LANG=en")
	cmd.Stdout, cmd.Stderr = f, f
	// If this tool dies without cleaning up, the kernel stops the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", b.o.bin, err)
	}
	b.cmd, b.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(b.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-b.done:
			return fmt.Errorf("rocca serve exited early:\n%s", b.logTail(30))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if res, err := http.Get(b.base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("rocca serve not healthy within 60 s:\n%s", b.logTail(30))
}

// stopServer sends SIGTERM and waits for the exit (killing it after 30 s).
func (b *bench) stopServer() error {
	if b.cmd == nil {
		return nil
	}
	defer func() {
		b.cmd = nil
		b.log.Close()
	}()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
		return errors.New("rocca serve did not stop within 30 s of SIGTERM")
	}
}

// cleanup stops the server and removes the temporary directory.
func (b *bench) cleanup() {
	if err := b.stopServer(); err != nil {
		b.logf("%v", err)
	}
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// logTail returns the last n lines the server wrote.
func (b *bench) logTail(n int) string {
	raw, _ := os.ReadFile(filepath.Join(b.dir, "serve.log"))
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// rocca runs the CLI against the running server.
func (b *bench) rocca(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, b.o.bin, append([]string{"--config", b.config}, args...)...)
	cmd.Env = append(os.Environ(), "ROCCA_LANG=en")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("rocca %s: %v: %s", strings.Join(args[:min(3, len(args))], " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// addUsers creates the accounts with `rocca user add --password-stdin` and signs each one in
// through the login form, as a browser does. User 0 is staff (host of the meetings, which are
// created from the command line); the others are councillors (members).
func (b *bench) addUsers(ctx context.Context) error {
	n := b.o.users()
	b.accounts = make([]*account, n)
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	password := "Bench-" + hex.EncodeToString(pw)
	b.logf("adding and signing in %d users", n)
	return parallel(ctx, n, 4, func(ctx context.Context, i int) error {
		email := fmt.Sprintf("bench%03d@comune.test", i)
		role := "councillor"
		if i == 0 {
			role = "staff"
		}
		if _, err := b.rocca(ctx, password+"\n", "user", "add", email, "--name", fmt.Sprintf("Partecipante %d", i),
			"--role", role, "--password-stdin"); err != nil {
			return err
		}
		a, err := b.login(ctx, email, password)
		b.accounts[i] = a
		return err
	})
}

func (b *bench) login(ctx context.Context, email, password string) (*account, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	form := url.Values{"email": {email}, "password": {password}, "next": {"/"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", email, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	u, _ := url.Parse(b.base)
	if res.StatusCode != http.StatusSeeOther || len(jar.Cookies(u)) == 0 {
		return nil, fmt.Errorf("login %s: status %d, no session", email, res.StatusCode)
	}
	return &account{email: email, http: hc}, nil
}

// createMeeting runs `rocca meeting create --json` and returns the meeting's public id.
func (b *bench) createMeeting(ctx context.Context, title string) (string, error) {
	out, err := b.rocca(ctx, "", "meeting", "create", "--title", title, "--json")
	if err != nil {
		return "", err
	}
	var m struct {
		ID   string `json:"id"`
		Link string `json:"link"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.ID == "" {
		return "", fmt.Errorf("meeting create: unexpected output %q", out)
	}
	return m.ID, nil
}
