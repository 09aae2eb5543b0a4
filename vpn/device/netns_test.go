package device

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/internal/netnstest"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// This file holds the test bench of the end-to-end tests: network namespaces joined by veth
// pairs, Debian's wireguard-go + wg as independent clients, and ICMP/TCP probes that run inside a
// namespace. Nothing here touches the test machine's own network namespace beyond creating and
// deleting the namespaces.

// The shared bench lives in internal/netnstest; these are the names this package's tests use.
var (
	requireE2E = netnstest.Require
	run        = netnstest.Run
	addNetns   = netnstest.Add
	veth       = netnstest.Veth
	inNetns    = netnstest.Do
	serveTCP   = netnstest.ServeTCP
	dialTCP    = netnstest.DialTCP
)

type lockedBuffer = netnstest.LockedBuffer

func randHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// wgClient is Debian's wireguard-go, configured with wg and ip, as an employee's device would be.
type wgClient struct {
	ns, iface string
	key       wgtypes.Key
	addr      netip.Addr
}

// startClient runs `wireguard-go -f` in ns and configures it to reach the server at endpoint,
// routing allowed through the tunnel.
func startClient(t *testing.T, ns, iface, addr string, server wgtypes.Key, endpoint string, allowed ...string) *wgClient {
	t.Helper()
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	c := &wgClient{ns: ns, iface: iface, key: key, addr: netip.MustParsePrefix(addr).Addr()}
	netnstest.StartWireguardGo(t, ns, iface)
	keyFile := t.TempDir() + "/client.key"
	if err := os.WriteFile(keyFile, []byte(key.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "ip", "netns", "exec", ns, "wg", "set", iface, "private-key", keyFile,
		"peer", server.String(), "endpoint", endpoint, "allowed-ips", strings.Join(allowed, ","))
	run(t, "ip", "-n", ns, "addr", "add", addr, "dev", iface)
	run(t, "ip", "-n", ns, "link", "set", iface, "up")
	for _, a := range allowed {
		if p := netip.MustParsePrefix(a); !p.Contains(c.addr) {
			run(t, "ip", "-n", ns, "route", "add", a, "dev", iface)
		}
	}
	return c
}

// wgShow is the client's view of its one peer, the server, from `wg show IFACE dump`.
type wgShow struct {
	handshake int64 // unix seconds, 0 before the first
	rx, tx    int64
}

func (c *wgClient) show(t *testing.T) wgShow {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(run(t, "ip", "netns", "exec", c.ns, "wg", "show", c.iface, "dump")), "\n")
	if len(lines) != 2 {
		t.Fatalf("wg show %s dump: want the interface and one peer, got:\n%s", c.iface, strings.Join(lines, "\n"))
	}
	f := strings.Split(lines[1], "\t")
	var s wgShow
	s.handshake, _ = strconv.ParseInt(f[4], 10, 64)
	s.rx, _ = strconv.ParseInt(f[5], 10, 64)
	s.tx, _ = strconv.ParseInt(f[6], 10, 64)
	return s
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pinger is the shared raw-socket pinger with the checks this package's tests make.
type pinger struct{ *netnstest.Pinger }

func newPinger(t *testing.T, ns, dst string) *pinger {
	return &pinger{netnstest.NewPinger(t, ns, dst)}
}

// reachable fails the test unless an echo is answered within limit (tunnels may still be
// handshaking, so it retries), and returns how long it took.
func (p *pinger) reachable(t *testing.T, limit time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	if !p.Reachable(limit) {
		t.Fatalf("%s: %s not answering ping after %s", what, p.Dst(), limit)
	}
	return time.Since(start)
}

// unreachable fails the test if either of two echoes, each given a second, is answered. Every
// path checked this way has answered in milliseconds when open.
func (p *pinger) unreachable(t *testing.T, what string) {
	t.Helper()
	for range 2 {
		if p.Answered(time.Second) {
			t.Fatalf("%s: %s answered ping, want no answer", what, p.Dst())
		}
	}
}

// flood pings every interval until stop is closed and returns how many echoes were sent and
// lost, and the largest round trip.
func (p *pinger) flood(interval time.Duration, stop <-chan struct{}) (sent, lost int, maxRTT time.Duration) {
	first, last := p.Flood(interval, stop)
	if last == 0 {
		return 0, 0, 0
	}
	return int(last-first) + 1, p.Lost(first, last), p.MaxRTT(first, last)
}

func itoa(n int) string { return strconv.Itoa(n) }

// exec_ runs a command and returns its output and error, for commands expected to fail.
func exec_(args ...string) (string, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	return string(out), err
}
