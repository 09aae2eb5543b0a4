// Package netnstest is test support: network namespaces, veth links and commands inside them,
// for the VPN end-to-end tests (vpn/device, vpn, cmd/rocca). Only tests import it.
//
// Namespaces are addressed by name, as `ip netns` knows them. Nothing here touches the test
// machine's own network namespace beyond creating and deleting namespaces. Without root or the
// tools a test skips and says so; with ROCCA_E2E=1 it fails instead.
package netnstest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Require fails (ROCCA_E2E=1) or skips the test, naming what is missing, unless it runs as root
// with /dev/net/tun, ip, wg, wireguard-go and the extra tools given.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		missing = append(missing, "/dev/net/tun")
	}
	for _, bin := range append([]string{"ip", "wg", "wireguard-go"}, tools...) {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "VPN end-to-end test needs " + strings.Join(missing, ", ") +
		" (run as root with Debian's wireguard-go, wireguard-tools and iproute2 installed)"
	if os.Getenv("ROCCA_E2E") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Tag returns six random hex digits, to make namespace and interface names unique to one test
// run (interface names must stay within 15 bytes).
func Tag(t testing.TB) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Add creates namespace name with lo up and deletes it when the test ends.
func Add(t testing.TB, name string) {
	t.Helper()
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("delete netns %s: %v %s", name, err, out)
		}
	})
	Run(t, "ip", "-n", name, "link", "set", "lo", "up")
}

// Veth joins namespace a (interface ifA, address addrA) to b (ifB, addrB) with a veth pair and
// brings both ends up. Addresses are in prefix form, "10.0.0.1/24".
func Veth(t testing.TB, a, ifA, addrA, b, ifB, addrB string) {
	t.Helper()
	Run(t, "ip", "-n", a, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b)
	Run(t, "ip", "-n", a, "addr", "add", addrA, "dev", ifA)
	Run(t, "ip", "-n", b, "addr", "add", addrB, "dev", ifB)
	Run(t, "ip", "-n", a, "link", "set", ifA, "up")
	Run(t, "ip", "-n", b, "link", "set", ifB, "up")
}

// Do runs fn on an OS thread that has entered namespace ns. The thread stays locked and dies
// with its goroutine, so no other goroutine ever runs in ns by accident. Sockets fn creates stay
// in ns wherever they are used later.
func Do(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// ServeTCP listens on addr inside ns until the test ends and tells every client the address it
// sees it coming from.
func ServeTCP(t testing.TB, ns, addr string) {
	t.Helper()
	var l net.Listener
	if err := Do(ns, func() (err error) { l, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() { // owned by the test: ends when cleanup closes l
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			fmt.Fprintln(c, host)
			c.Close()
		}
	}()
}

// DialTCP connects from inside ns to a ServeTCP server and returns the address the server saw,
// or an error when no connection is made within two seconds.
func DialTCP(ns, addr string) (string, error) {
	var c net.Conn
	if err := Do(ns, func() (err error) { c, err = net.DialTimeout("tcp", addr, 2*time.Second); return err }); err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// StopProcess asks a started process to stop with SIGTERM, kills it if it lingers five seconds,
// and reaps it.
func StopProcess(cmd *exec.Cmd) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// LockedBuffer collects a process's output while the test reads it.
type LockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// WireguardGo is Debian's wireguard-go running one interface in a namespace.
type WireguardGo struct {
	Sock string // its UAPI socket
	cmd  *exec.Cmd
}

// StartWireguardGo runs `wireguard-go -f iface` in ns, unconfigured, and waits for its UAPI
// socket: an employee's device before `wg set` configures it, or the program that runs the
// server's interface in external mode. It is stopped when the test ends, if not before; its
// output is logged if the test failed.
func StartWireguardGo(t testing.TB, ns, iface string) *WireguardGo {
	t.Helper()
	var out LockedBuffer
	cmd := exec.Command("ip", "netns", "exec", ns, "wireguard-go", "-f", iface)
	cmd.Env = append(os.Environ(), "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start wireguard-go: %v", err)
	}
	w := &WireguardGo{Sock: "/var/run/wireguard/" + iface + ".sock", cmd: cmd}
	t.Cleanup(func() {
		w.Stop()
		if t.Failed() {
			t.Logf("wireguard-go %s output:\n%s", iface, out.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(w.Sock); err == nil {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("wireguard-go UAPI socket %s did not appear within 10 s", w.Sock)
		}
	}
}

// Stop ends wireguard-go (SIGTERM: it deletes its interface and socket) and reaps it; a second
// call does nothing.
func (w *WireguardGo) Stop() {
	if w.cmd != nil {
		StopProcess(w.cmd)
		w.cmd = nil
		os.Remove(w.Sock) // left behind only if wireguard-go could not clean up
	}
}
