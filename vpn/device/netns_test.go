package device

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
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
	requireE2E  = netnstest.Require
	run         = netnstest.Run
	addNetns    = netnstest.Add
	veth        = netnstest.Veth
	inNetns     = netnstest.Do
	serveTCP    = netnstest.ServeTCP
	dialTCP     = netnstest.DialTCP
	stopProcess = netnstest.StopProcess
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
	var out lockedBuffer
	cmd := exec.Command("ip", "netns", "exec", ns, "wireguard-go", "-f", iface)
	cmd.Env = append(os.Environ(), "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start wireguard-go: %v", err)
	}
	sock := "/var/run/wireguard/" + iface + ".sock"
	t.Cleanup(func() {
		stopProcess(cmd)
		os.Remove(sock) // left behind only if wireguard-go could not clean up
		if t.Failed() {
			t.Logf("wireguard-go %s output:\n%s", iface, out.String())
		}
	})
	waitFor(t, 10*time.Second, "wireguard-go UAPI socket "+sock, func() bool {
		_, err := os.Stat(sock)
		return err == nil
	})
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

// pinger sends ICMP echo requests from inside a namespace through a raw socket and records the
// replies, so tests need no ping binary and count losses exactly.
type pinger struct {
	c   *net.IPConn
	dst netip.Addr
	id  uint16

	mu      sync.Mutex
	seq     uint16
	sent    map[uint16]time.Time
	rtts    map[uint16]time.Duration
	replies chan uint16
}

func newPinger(t *testing.T, ns, dst string) *pinger {
	t.Helper()
	p := &pinger{dst: netip.MustParseAddr(dst), sent: map[uint16]time.Time{}, rtts: map[uint16]time.Duration{},
		replies: make(chan uint16, 65536)}
	var idb [2]byte
	rand.Read(idb[:])
	p.id = binary.BigEndian.Uint16(idb[:])
	err := inNetns(ns, func() error {
		c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
		if err == nil {
			p.c = c.(*net.IPConn)
		}
		return err
	})
	if err != nil {
		t.Fatalf("icmp socket in %s: %v", ns, err)
	}
	t.Cleanup(func() { p.c.Close() })
	go p.read()
	return p
}

func (p *pinger) read() {
	buf := make([]byte, 1500)
	for {
		n, from, err := p.c.ReadFrom(buf)
		if err != nil {
			return
		}
		m := buf[:n] // Go strips the IPv4 header from raw ip4 sockets
		if n < 8 || m[0] != 0 || binary.BigEndian.Uint16(m[4:]) != p.id {
			continue
		}
		if a, ok := netip.AddrFromSlice(from.(*net.IPAddr).IP); !ok || a.Unmap() != p.dst {
			continue
		}
		seq := binary.BigEndian.Uint16(m[6:])
		p.mu.Lock()
		if at, ok := p.sent[seq]; ok {
			if _, dup := p.rtts[seq]; !dup {
				p.rtts[seq] = time.Since(at)
				select {
				case p.replies <- seq:
				default: // nobody waits for single replies during a flood
				}
			}
		}
		p.mu.Unlock()
	}
}

// send sends the next echo request and returns its sequence number.
func (p *pinger) send() uint16 {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.sent[seq] = time.Now()
	p.mu.Unlock()
	m := []byte{8, 0, 0, 0, 0, 0, 0, 0, 'r', 'o', 'c', 'c', 'a'}
	binary.BigEndian.PutUint16(m[4:], p.id)
	binary.BigEndian.PutUint16(m[6:], seq)
	binary.BigEndian.PutUint16(m[2:], icmpChecksum(m))
	p.c.WriteTo(m, &net.IPAddr{IP: p.dst.AsSlice()}) // an error (no route) is a lost packet
	return seq
}

func icmpChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// answered sends one echo and reports whether its reply comes within wait.
func (p *pinger) answered(wait time.Duration) bool {
	seq := p.send()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case s := <-p.replies:
			if s == seq {
				return true
			}
		case <-timer.C:
			return false
		}
	}
}

// reachable fails the test unless an echo is answered within limit (tunnels may still be
// handshaking, so it retries).
func (p *pinger) reachable(t *testing.T, limit time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for !p.answered(300 * time.Millisecond) {
		if time.Since(start) > limit {
			t.Fatalf("%s: %s not answering ping after %s", what, p.dst, limit)
		}
	}
	return time.Since(start)
}

// unreachable fails the test if either of two echoes, each given a second, is answered. Every
// path checked this way has answered in milliseconds when open.
func (p *pinger) unreachable(t *testing.T, what string) {
	t.Helper()
	for range 2 {
		if p.answered(time.Second) {
			t.Fatalf("%s: %s answered ping, want no answer", what, p.dst)
		}
	}
}

// flood pings every interval until stop is closed, then waits up to two seconds for the last
// replies and returns how many were sent and lost, and the largest round trip.
func (p *pinger) flood(interval time.Duration, stop <-chan struct{}) (sent, lost int, maxRTT time.Duration) {
	p.mu.Lock()
	first := p.seq + 1
	p.mu.Unlock()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last uint16
loop:
	for {
		select {
		case <-stop:
			break loop
		case <-tick.C:
			last = p.send()
		}
	}
	if last == 0 {
		return 0, 0, 0
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		p.mu.Lock()
		sent, lost, maxRTT = 0, 0, 0
		for s := first; s != last+1; s++ {
			sent++
			rtt, ok := p.rtts[s]
			if !ok {
				lost++
			}
			maxRTT = max(maxRTT, rtt)
		}
		p.mu.Unlock()
		if lost == 0 || time.Now().After(deadline) {
			return sent, lost, maxRTT
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// repliesSince counts the replies to echoes sent after seq.
func (p *pinger) repliesSince(seq uint16) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for s := range p.rtts {
		if s > seq {
			n++
		}
	}
	return n
}

func (p *pinger) lastSeq() uint16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

func itoa(n int) string { return strconv.Itoa(n) }

// exec_ runs a command and returns its output and error, for commands expected to fail.
func exec_(args ...string) (string, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	return string(out), err
}
