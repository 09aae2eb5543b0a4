// Package imaptest runs a private Dovecot for the helpdesk's end-to-end tests: its own config,
// directories and port on loopback, one user with a password file, delivery with doveadm save or
// IMAP APPEND, stop and restart, and the UIDVALIDITY reset of TESTING.md (dovecot-uidlist removed
// while Dovecot is stopped).
//
// Test support only: imported by the tests of helpdesk and helpdesk/mailin.
package imaptest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

// Binaries this package needs (Debian: dovecot-imapd, dovecot-core).
var (
	dovecotBin = []string{"/usr/sbin/dovecot", "dovecot"}
	doveadmBin = []string{"/usr/bin/doveadm", "doveadm"}
)

// Dovecot is one running (or stopped) private Dovecot.
type Dovecot struct {
	Dir          string // everything lives here
	Port         int    // IMAP on 127.0.0.1
	User         string
	Password     string
	PasswordFile string // the password, for IMAPConfig.PasswordFile (0600)

	t       testing.TB
	conf    string
	dovecot string
	doveadm string
	uid     int
	gid     int
	cmd     *exec.Cmd
	waitErr chan error
	seq     int
}

func find(names []string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// Missing returns what is missing to run Dovecot here, or "".
func Missing() string {
	var miss []string
	if find(dovecotBin) == "" {
		miss = append(miss, "dovecot (Debian package dovecot-imapd)")
	}
	if find(doveadmBin) == "" {
		miss = append(miss, "doveadm (Debian package dovecot-core)")
	}
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		miss = append(miss, "/usr/lib/dovecot/imap (Debian package dovecot-imapd)")
	}
	return strings.Join(miss, ", ")
}

// Require skips the test, or fails it when ROCCA_E2E=1, if Dovecot cannot run here.
func Require(t testing.TB) {
	t.Helper()
	if m := Missing(); m != "" {
		if os.Getenv("ROCCA_E2E") == "1" {
			t.Fatalf("end-to-end test needs %s (ROCCA_E2E=1: missing prerequisites fail)", m)
		}
		t.Skipf("end-to-end test skipped: missing %s; install it or see TESTING.md", m)
	}
}

// Start starts a fresh Dovecot, stopped again at the end of the test.
func Start(t testing.TB) *Dovecot {
	t.Helper()
	Require(t)
	dir, err := os.MkdirTemp("", "rocca-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	// Dovecot's processes run as other users: they must reach the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := &Dovecot{Dir: dir, User: "helpdesk", Password: "segreta-di-prova", t: t,
		dovecot: find(dovecotBin), doveadm: find(doveadmBin), uid: os.Getuid(), gid: os.Getgid()}
	if d.uid == 0 {
		d.uid, d.gid = 65534, 65534 // nobody: Dovecot refuses to deliver mail as root
	}
	d.Port = freePort(t)
	d.PasswordFile = filepath.Join(dir, "imap-password")
	if err := os.WriteFile(d.PasswordFile, []byte(d.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.writeConfig(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop()
		os.RemoveAll(dir)
	})
	d.startProcess()
	return d
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (d *Dovecot) writeConfig() error {
	for _, sub := range []string{"run", "state", "mail", "home"} {
		if err := os.MkdirAll(filepath.Join(d.Dir, sub), 0o755); err != nil {
			return err
		}
	}
	for _, sub := range []string{"mail", "home"} {
		if err := os.Chown(filepath.Join(d.Dir, sub), d.uid, d.gid); err != nil && os.Getuid() == 0 {
			return err
		}
	}
	passwd := fmt.Sprintf("%s:{PLAIN}%s::::::\n", d.User, d.Password)
	if err := os.WriteFile(filepath.Join(d.Dir, "passwd"), []byte(passwd), 0o644); err != nil {
		return err
	}
	users := ""
	if os.Getuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return err
		}
		users = fmt.Sprintf("default_login_user = %s\ndefault_internal_user = %s\n", u.Username, u.Username)
	}
	conf := fmt.Sprintf(`# Private Dovecot for Rocca's tests.
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
info_log_path = %[1]s/dovecot.log
instance_name = rocca-test-%[2]d
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:%[1]s/mail/%%u
first_valid_uid = 1
%[5]s
passdb {
  driver = passwd-file
  args = %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[4]d home=%[1]s/home/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
`, d.Dir, d.Port, d.uid, d.gid, users)
	d.conf = filepath.Join(d.Dir, "dovecot.conf")
	return os.WriteFile(d.conf, []byte(conf), 0o644)
}

// startProcess runs dovecot -F and waits until it accepts IMAP connections.
func (d *Dovecot) startProcess() {
	d.t.Helper()
	cmd := exec.Command(d.dovecot, "-F", "-c", d.conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("start dovecot: %v", err)
	}
	d.cmd = cmd
	d.waitErr = make(chan error, 1)
	go func() { d.waitErr <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.Addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-d.waitErr:
			d.cmd = nil
			d.t.Fatalf("dovecot exited: %v\n%s\n%s", err, out.String(), d.Log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("dovecot does not accept connections on %s\n%s", d.Addr(), d.Log())
		}
	}
}

// Log returns Dovecot's log, for failure messages.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
	return string(b)
}

// Addr is host:port of the IMAP listener.
func (d *Dovecot) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(d.Port)) }

// Stop kills Dovecot (the whole process group) and reaps it; an unreaped master blocks the next start.
func (d *Dovecot) Stop() {
	if d.cmd == nil {
		return
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.waitErr:
	case <-time.After(10 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.waitErr
	}
	d.cmd = nil
	// Children (imap, auth) may outlive the master for a moment: wait until the port is free.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		l, err := net.Listen("tcp", d.Addr())
		if err == nil {
			l.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Start starts a stopped Dovecot again, on the same port and with the same mail.
func (d *Dovecot) Start() {
	d.t.Helper()
	if d.cmd == nil {
		d.startProcess()
	}
}

// ResetUIDValidity stops Dovecot, removes every dovecot-uidlist (so each folder gets a new
// UIDVALIDITY and new UIDs, as after a server migration) and starts it again.
func (d *Dovecot) ResetUIDValidity() {
	d.t.Helper()
	d.Stop()
	root := filepath.Join(d.Dir, "mail")
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		// The index files remember the UIDVALIDITY too.
		if err == nil && !e.IsDir() && (e.Name() == "dovecot-uidlist" || strings.HasPrefix(e.Name(), "dovecot.index")) {
			os.Remove(p)
		}
		return nil
	})
	d.startProcess()
}

// Save delivers raw into folder with doveadm save, as a mail server would.
func (d *Dovecot) Save(folder string, raw []byte) {
	d.t.Helper()
	cmd := exec.Command(d.doveadm, "-c", d.conf, "save", "-u", d.User, "-m", folder)
	cmd.Stdin = bytes.NewReader(raw)
	if out, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("doveadm save: %v\n%s", err, out)
	}
}

// SaveOffline writes raw into the INBOX maildir directly, as a delivery agent does; it works
// while Dovecot is stopped.
func (d *Dovecot) SaveOffline(raw []byte) {
	d.t.Helper()
	dir := filepath.Join(d.Dir, "mail", d.User)
	for _, sub := range []string{"", "new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			d.t.Fatal(err)
		}
		os.Chown(filepath.Join(dir, sub), d.uid, d.gid)
	}
	d.seq++
	name := fmt.Sprintf("%d.M%dP%dQ%d.rocca-test", time.Now().Unix(), time.Now().Nanosecond()/1000, os.Getpid(), d.seq)
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		d.t.Fatal(err)
	}
	os.Chown(tmp, d.uid, d.gid)
	if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
		d.t.Fatal(err)
	}
}

// Client logs in over IMAP.
func (d *Dovecot) Client() *client.Client {
	d.t.Helper()
	c, err := client.Dial(d.Addr())
	if err != nil {
		d.t.Fatalf("imap dial: %v", err)
	}
	if err := c.Login(d.User, d.Password); err != nil {
		c.Logout()
		d.t.Fatalf("imap login: %v", err)
	}
	return c
}

// Append delivers many messages into folder with IMAP APPEND (faster than doveadm for bulk).
func (d *Dovecot) Append(folder string, raws [][]byte) {
	d.t.Helper()
	c := d.Client()
	defer c.Logout()
	for _, raw := range raws {
		if err := c.Append(folder, nil, time.Now(), bytes.NewBuffer(raw)); err != nil {
			d.t.Fatalf("imap append: %v", err)
		}
	}
}

// Count returns how many messages folder holds (0 when it does not exist).
func (d *Dovecot) Count(folder string) int {
	d.t.Helper()
	c := d.Client()
	defer c.Logout()
	st, err := c.Status(folder, []imap.StatusItem{imap.StatusMessages})
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "exist") {
			return 0
		}
		d.t.Fatalf("imap status %s: %v", folder, err)
	}
	return int(st.Messages)
}

// UIDValidity returns the folder's UIDVALIDITY.
func (d *Dovecot) UIDValidity(folder string) uint32 {
	d.t.Helper()
	c := d.Client()
	defer c.Logout()
	st, err := c.Status(folder, []imap.StatusItem{imap.StatusUidValidity})
	if err != nil {
		d.t.Fatalf("imap status %s: %v", folder, err)
	}
	return st.UidValidity
}
