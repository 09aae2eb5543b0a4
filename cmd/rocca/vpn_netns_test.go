package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/internal/netnstest"
)

// The bench of the VPN end-to-end tests of the built binary: network namespaces joined by veth
// pairs, `rocca serve` running inside one of them, Debian's wireguard-go + wg as employees'
// devices, and ICMP/TCP/HTTP probes made from inside a namespace. Nothing here touches the
// machine's own network namespace beyond creating and deleting namespaces; the admin socket is a
// file, so the CLI reaches it from anywhere.

// The shared bench lives in internal/netnstest; these are the names this package's tests use.
var (
	requireVPNE2E = netnstest.Require
	nsTag         = netnstest.Tag
	nsRun         = netnstest.Run
	nsAdd         = netnstest.Add
	nsVeth        = netnstest.Veth
	nsDo          = netnstest.Do
	nsServeTCP    = netnstest.ServeTCP
	nsDialTCP     = netnstest.DialTCP
	nsStopProcess = netnstest.StopProcess
)

type nsLockedBuffer = netnstest.LockedBuffer

// nsHTTP is an HTTP client whose connections are made inside ns; it does not follow redirects.
func nsHTTP(ns string) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var c net.Conn
				err := nsDo(ns, func() (err error) { c, err = (&net.Dialer{}).DialContext(ctx, network, addr); return err })
				return c, err
			},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// nsWait polls ok every 100 ms for at most limit.
func nsWait(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// vpnClient is an employee's device: Debian's wireguard-go in its own namespace, set up from the
// wg-quick file Rocca delivered the way wg-quick does it: the file without wg-quick's own keys goes
// to `wg setconf`, then the address, the MTU and a route for each AllowedIPs range.
type vpnClient struct {
	ns, iface  string
	privateKey string // as written in the file, for the "no private key kept" checks
	address    netip.Prefix
	cmd        *exec.Cmd
	out        *nsLockedBuffer
}

// wgQuickOnly are the [Interface] keys wg-quick handles itself; `wg setconf` rejects them.
var wgQuickOnly = map[string]bool{"address": true, "dns": true, "mtu": true, "table": true, "preup": true,
	"postup": true, "predown": true, "postdown": true, "saveconfig": true}

func startVPNClient(t *testing.T, ns, iface, conf string) *vpnClient {
	t.Helper()
	c := &vpnClient{ns: ns, iface: iface, out: &nsLockedBuffer{}}
	var kept []string
	var allowed []netip.Prefix
	mtu := ""
	for _, line := range strings.Split(conf, "\n") {
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || strings.HasPrefix(k, "#") {
			kept = append(kept, line)
			continue
		}
		switch k {
		case "address":
			p, err := netip.ParsePrefix(v)
			if err != nil {
				t.Fatalf("delivered config: Address %q: %v", v, err)
			}
			c.address = p
		case "mtu":
			mtu = v
		case "privatekey":
			c.privateKey = v
		case "allowedips":
			for _, a := range strings.Split(v, ",") {
				p, err := netip.ParsePrefix(strings.TrimSpace(a))
				if err != nil {
					t.Fatalf("delivered config: AllowedIPs %q: %v", v, err)
				}
				allowed = append(allowed, p)
			}
		}
		if !wgQuickOnly[k] {
			kept = append(kept, line)
		}
	}
	if !c.address.IsValid() || c.privateKey == "" || len(allowed) == 0 {
		t.Fatalf("delivered config lacks Address, PrivateKey or AllowedIPs:\n%s", conf)
	}
	file := filepath.Join(t.TempDir(), iface+".conf")
	if err := os.WriteFile(file, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command("ip", "netns", "exec", ns, "wireguard-go", "-f", iface)
	c.cmd.Env = append(os.Environ(), "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start wireguard-go: %v", err)
	}
	sock := "/var/run/wireguard/" + iface + ".sock"
	t.Cleanup(func() {
		c.stop()
		os.Remove(sock) // left behind only if wireguard-go could not clean up
		if t.Failed() {
			t.Logf("wireguard-go %s output:\n%s", iface, c.out.String())
		}
	})
	nsWait(t, 10*time.Second, "wireguard-go socket "+sock, func() bool { _, err := os.Stat(sock); return err == nil })
	nsRun(t, "ip", "netns", "exec", ns, "wg", "setconf", iface, file)
	nsRun(t, "ip", "-n", ns, "addr", "add", c.address.String(), "dev", iface)
	if mtu != "" {
		nsRun(t, "ip", "-n", ns, "link", "set", iface, "mtu", mtu)
	}
	nsRun(t, "ip", "-n", ns, "link", "set", iface, "up")
	for _, a := range allowed {
		nsRun(t, "ip", "-n", ns, "route", "add", a.String(), "dev", iface)
	}
	return c
}

func (c *vpnClient) stop() {
	if c.cmd != nil {
		nsStopProcess(c.cmd)
		c.cmd = nil
	}
}

// vpnShow is the device's view of its one peer, the server, from `wg show IFACE dump`.
type vpnShow struct {
	handshake int64 // unix seconds, 0 before the first
	rx, tx    int64
}

func (c *vpnClient) show(t *testing.T) vpnShow {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(nsRun(t, "ip", "netns", "exec", c.ns, "wg", "show", c.iface, "dump")), "\n")
	if len(lines) != 2 {
		t.Fatalf("wg show %s dump: want the interface and one peer, got:\n%s", c.iface, strings.Join(lines, "\n"))
	}
	f := strings.Split(lines[1], "\t")
	if len(f) < 7 {
		t.Fatalf("wg show %s dump: peer line %q", c.iface, lines[1])
	}
	var s vpnShow
	s.handshake, _ = strconv.ParseInt(f[4], 10, 64)
	s.rx, _ = strconv.ParseInt(f[5], 10, 64)
	s.tx, _ = strconv.ParseInt(f[6], 10, 64)
	return s
}

// vpnPinger sends ICMP echo requests from inside a namespace through a raw socket and records
// when each reply came, so tests need no ping binary and count losses exactly.
type vpnPinger struct {
	c   net.PacketConn
	dst netip.Addr
	id  uint16

	mu      sync.Mutex
	seq     uint16
	sent    map[uint16]time.Time
	got     map[uint16]time.Time
	replies chan uint16
}

func newVPNPinger(t *testing.T, ns, dst string) *vpnPinger {
	t.Helper()
	p := &vpnPinger{dst: netip.MustParseAddr(dst), sent: map[uint16]time.Time{}, got: map[uint16]time.Time{},
		replies: make(chan uint16, 1024)}
	var idb [2]byte
	rand.Read(idb[:])
	p.id = binary.BigEndian.Uint16(idb[:])
	if err := nsDo(ns, func() (err error) { p.c, err = net.ListenPacket("ip4:icmp", "0.0.0.0"); return err }); err != nil {
		t.Fatalf("icmp socket in %s: %v", ns, err)
	}
	t.Cleanup(func() { p.c.Close() })
	go p.read()
	return p
}

func (p *vpnPinger) read() {
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
		if _, ok := p.sent[seq]; ok {
			if _, dup := p.got[seq]; !dup {
				p.got[seq] = time.Now()
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
func (p *vpnPinger) send() uint16 {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.sent[seq] = time.Now()
	p.mu.Unlock()
	m := []byte{8, 0, 0, 0, 0, 0, 0, 0, 'r', 'o', 'c', 'c', 'a', '!'}
	binary.BigEndian.PutUint16(m[4:], p.id)
	binary.BigEndian.PutUint16(m[6:], seq)
	var sum uint32
	for i := 0; i+1 < len(m); i += 2 {
		sum += uint32(m[i])<<8 | uint32(m[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(m[2:], ^uint16(sum))
	p.c.WriteTo(m, &net.IPAddr{IP: p.dst.AsSlice()}) // an error (no route) is a lost packet
	return seq
}

// answered sends one echo and reports whether its reply comes within wait.
func (p *vpnPinger) answered(wait time.Duration) bool {
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

// reachable reports whether an echo is answered within limit (a tunnel may still be handshaking).
func (p *vpnPinger) reachable(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !p.answered(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// flood pings every interval until stop is closed, then waits up to three seconds for the last
// replies. It returns the first and last sequence numbers it sent.
func (p *vpnPinger) flood(interval time.Duration, stop <-chan struct{}) (first, last uint16) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			if first != 0 {
				deadline := time.Now().Add(3 * time.Second)
				for p.lost(first, last) > 0 && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
			}
			return first, last
		case <-tick.C:
			last = p.send()
			if first == 0 {
				first = last
			}
		}
	}
}

// lost counts the echoes from first to last (inclusive) without a reply.
func (p *vpnPinger) lost(first, last uint16) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for s := first; s != last+1; s++ {
		if _, ok := p.got[s]; !ok {
			n++
		}
	}
	return n
}

// maxRTT is the longest round trip of the echoes from first to last that were answered.
func (p *vpnPinger) maxRTT(first, last uint16) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var m time.Duration
	for s := first; s != last+1; s++ {
		if at, ok := p.got[s]; ok {
			m = max(m, at.Sub(p.sent[s]))
		}
	}
	return m
}

// repliesSince counts the replies to echoes sent after seq.
func (p *vpnPinger) repliesSince(seq uint16) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for s := range p.got {
		if s > seq {
			n++
		}
	}
	return n
}

// answeredAfter reports the echoes sent at or after t that got a reply, and the time of the last
// reply to any echo.
func (p *vpnPinger) answeredAfter(t time.Time) (n int, lastReply time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, at := range p.got {
		if !p.sent[s].Before(t) {
			n++
		}
		if at.After(lastReply) {
			lastReply = at
		}
	}
	return n, lastReply
}

func (p *vpnPinger) lastSeq() uint16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

// nsReadAll reads a response body for a test message.
func nsReadAll(r io.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}
