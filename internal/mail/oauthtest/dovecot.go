package oauthtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Dovecot is a Dovecot 2.3 of the test's own whose only passdb is oauth2: it knows no password
// and asks the provider's userinfo endpoint about every token it is shown (introspection_mode =
// auth). It offers XOAUTH2 and OAUTHBEARER only, without TLS, on loopback.
type Dovecot struct {
	Host string // 127.0.0.1
	Port int
	Conf string // the config file, for doveadm -c
	Log  string // the log file

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed when the master has been reaped
}

// need fails (ROCCA_E2E=1) or skips the test, naming what is missing.
func need(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("ROCCA_E2E") == "1" {
		t.Fatal(what)
	}
	t.Skip(what)
}

// Dovecot starts a Dovecot that trusts this provider; it stops when the test ends. Dovecot
// delays the next login from an address after a failed one (its auth penalty: 2 s, doubling up to
// 15 s), so tests that fail tokens on purpose keep access tokens alive longer than that.
func (p *Provider) Dovecot(t testing.TB) *Dovecot {
	t.Helper()
	_, err := exec.LookPath("dovecot")
	need(t, err == nil, "the OAuth2 Dovecot test needs dovecot and doveadm (apt-get install dovecot-imapd)")
	need(t, os.Geteuid() == 0, "the OAuth2 Dovecot test runs Dovecot as root, as .ci/run does (mail owned by nobody)")
	dir := t.TempDir()
	// Dovecot's processes run as nobody and dovenull: they must reach the mail directory.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		os.Chmod(d, 0o755)
	}
	mailDir := filepath.Join(dir, "mail")
	os.MkdirAll(mailDir, 0o755)
	os.Chown(mailDir, 65534, 65534)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	id := make([]byte, 4)
	rand.Read(id)
	oauthConf := filepath.Join(dir, "dovecot-oauth2.conf.ext")
	os.WriteFile(oauthConf, []byte(fmt.Sprintf("introspection_mode = auth\nintrospection_url = %s\nusername_attribute = email\n"+
		"active_attribute = active\nactive_value = true\nforce_introspection = yes\n", p.UserinfoURL())), 0o644)
	d := &Dovecot{Host: "127.0.0.1", Port: port, Conf: filepath.Join(dir, "dovecot.conf"), Log: filepath.Join(dir, "dovecot.log"), t: t}
	conf := fmt.Sprintf(`instance_name = rocca-oauth-%s
base_dir = %s/run
state_dir = %s/state
log_path = %s
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = xoauth2 oauthbearer
auth_failure_delay = 0
mail_location = maildir:%s/%%u
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = %s
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=%s/%%u allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %d
  }
  inet_listener imaps {
    port = 0
  }
}
`, hex.EncodeToString(id), dir, dir, d.Log, mailDir, oauthConf, mailDir, port)
	if err := os.WriteFile(d.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			b, _ := os.ReadFile(d.Log)
			t.Logf("dovecot log:\n%s", b)
		}
	})
	d.Start()
	return d
}

// Addr is host:port of the IMAP listener.
func (d *Dovecot) Addr() string { return net.JoinHostPort(d.Host, strconv.Itoa(d.Port)) }

// Start runs dovecot -F in a process group of its own and waits until it accepts connections.
func (d *Dovecot) Start() {
	d.t.Helper()
	d.cmd = exec.Command("dovecot", "-F", "-c", d.Conf)
	d.cmd.Stdout, d.cmd.Stderr = os.Stderr, os.Stderr
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(d.cmd, d.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", d.Addr())
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("dovecot does not listen on %s", d.Addr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts Dovecot down, its children included (every IMAP session drops), and reaps it: an
// unreaped master blocks the next start.
func (d *Dovecot) Stop() {
	if d.cmd == nil {
		return
	}
	pgid := d.cmd.Process.Pid // Setpgid: the group Start created, and only it
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-d.done
	}
	d.cmd = nil
	// Children may outlive the master for a moment: wait until the port is free.
	for i := 0; i < 500; i++ {
		l, err := net.Listen("tcp", d.Addr())
		if err == nil {
			l.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Deliver stores raw in the user's INBOX with doveadm, as a delivery agent would.
func (d *Dovecot) Deliver(user string, raw []byte) {
	d.t.Helper()
	cmd := exec.Command("doveadm", "-c", d.Conf, "save", "-u", user, "-m", "INBOX")
	cmd.Stdin = strings.NewReader(string(raw))
	if out, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("doveadm save: %v\n%s", err, out)
	}
}
