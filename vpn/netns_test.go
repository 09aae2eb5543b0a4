package vpn

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/internal/netnstest"
)

// The test bench of TestEndToEnd: network namespaces joined by veth pairs, Debian's wireguard-go +
// wg as the employees' devices, and ICMP/TCP/HTTP probes that run inside a namespace. Nothing here
// touches the machine's own network namespace beyond creating and deleting namespaces.

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

// waitUntil polls ok for at most limit.
func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wgDevice is an employee's device: Debian's wireguard-go in its own namespace, set up from the
// wg-quick text Rocca delivered the way wg-quick does it (wg set, address, routes).
type wgDevice struct {
	ns, iface string
	*netnstest.WireguardGo
}

func startDevice(t *testing.T, ns, iface, conf string) *wgDevice {
	t.Helper()
	wq, err := ImportWGQuick(strings.NewReader(conf)) // the parser reads a device's file as well
	if err != nil {
		t.Fatalf("parse delivered config: %v\n%s", err, conf)
	}
	if len(wq.Addresses) != 1 || len(wq.Peers) != 1 {
		t.Fatalf("delivered config has %d addresses and %d peers:\n%s", len(wq.Addresses), len(wq.Peers), conf)
	}
	d := &wgDevice{ns: ns, iface: iface, WireguardGo: netnstest.StartWireguardGo(t, ns, iface)}
	dir := t.TempDir()
	keyFile, pskFile := dir+"/key", dir+"/psk"
	os.WriteFile(keyFile, []byte(wq.PrivateKey.String()), 0o600)
	p := wq.Peers[0]
	var allowed []string
	for _, a := range p.AllowedIPs {
		allowed = append(allowed, a.String())
	}
	args := []string{"ip", "netns", "exec", ns, "wg", "set", iface, "private-key", keyFile, "peer", p.PublicKey.String(),
		"endpoint", p.Endpoint, "allowed-ips", strings.Join(allowed, ","), "persistent-keepalive", fmt.Sprint(p.Keepalive)}
	if p.PresharedKey != nil {
		os.WriteFile(pskFile, []byte(p.PresharedKey.String()), 0o600)
		args = append(args, "preshared-key", pskFile)
	}
	run(t, args...)
	run(t, "ip", "-n", ns, "addr", "add", wq.Addresses[0].String(), "dev", iface)
	run(t, "ip", "-n", ns, "link", "set", iface, "up")
	for _, a := range p.AllowedIPs {
		run(t, "ip", "-n", ns, "route", "add", a.String(), "dev", iface)
	}
	return d
}

// ping sends one ICMP echo from ns to dst and reports whether the reply came within wait.
func ping(ns, dst string, wait time.Duration) bool {
	var c net.PacketConn
	if err := inNetns(ns, func() (err error) { c, err = net.ListenPacket("ip4:icmp", "0.0.0.0"); return err }); err != nil {
		return false
	}
	defer c.Close()
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	m := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'r', 'o', 'c', 'c', 'a'}
	binary.BigEndian.PutUint16(m[4:], id)
	var sum uint32
	for i := 0; i+1 < len(m); i += 2 {
		sum += uint32(m[i])<<8 | uint32(m[i+1])
	}
	sum += uint32(m[len(m)-1]) << 8
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(m[2:], ^uint16(sum))
	if _, err := c.WriteTo(m, &net.IPAddr{IP: net.ParseIP(dst)}); err != nil {
		return false
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return false
		}
		if n >= 8 && buf[0] == 0 && binary.BigEndian.Uint16(buf[4:]) == id && from.(*net.IPAddr).IP.String() == dst {
			return true
		}
	}
}

// reachable waits up to limit for dst to answer a ping from ns (a tunnel may still be handshaking).
func reachable(ns, dst string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		if ping(ns, dst, 500*time.Millisecond) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// httpIn is an HTTP client whose connections are made inside ns.
func httpIn(ns string) *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := inNetns(ns, func() (err error) { c, err = (&net.Dialer{}).DialContext(ctx, network, addr); return err })
			return c, err
		},
		DisableKeepAlives: true,
	}}
}

// postForm posts form to u and returns the status and body.
func postForm(c *http.Client, u string, form url.Values) (int, string, error) {
	res, err := c.PostForm(u, form)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// e2eProc is the test's handle on a running TestHelperVPNServer.
type e2eProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	resps  chan e2eResp
	stderr *lockedBuffer
}

func startServer(t *testing.T, ns string) *e2eProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^TestHelperVPNServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), e2eHelperEnv+"=1")
	p := &e2eProc{t: t, cmd: cmd, resps: make(chan e2eResp), stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server helper: %v", err)
	}
	go func() {
		defer close(p.resps)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), e2ePrefix)
			if !ok {
				continue
			}
			var r e2eResp
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				r = e2eResp{Err: "bad response: " + err.Error()}
			}
			p.resps <- r
		}
	}()
	t.Cleanup(p.stop)
	return p
}

// stop closes the helper's input (it shuts down like `rocca serve` on SIGTERM) and reaps it.
func (p *e2eProc) stop() {
	if p.cmd == nil {
		return
	}
	p.in.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	if p.t.Failed() {
		p.t.Logf("server helper log:\n%s", p.stderr.String())
	}
	p.cmd = nil
}

func (p *e2eProc) must(req e2eReq) e2eResp {
	p.t.Helper()
	b, _ := json.Marshal(req)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("server %s: %v", req.Op, err)
	}
	select {
	case r, ok := <-p.resps:
		if !ok {
			p.t.Fatalf("server exited during %s:\n%s", req.Op, p.stderr.String())
		}
		if !r.OK {
			p.t.Fatalf("server %s: %s", req.Op, r.Err)
		}
		return r
	case <-time.After(60 * time.Second):
		p.t.Fatalf("server did not answer %s within a minute", req.Op)
	}
	return e2eResp{}
}

// peer returns the server's view of one device.
func (p *e2eProc) peer(id int64) *Peer {
	p.t.Helper()
	for _, pe := range p.must(e2eReq{Op: "peers"}).Peers {
		if pe.ID == id {
			return pe
		}
	}
	return nil
}
