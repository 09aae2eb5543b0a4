package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	newVPNPinger  = netnstest.NewPinger
)

type vpnPinger = netnstest.Pinger

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
	*netnstest.WireguardGo
}

// wgQuickOnly are the [Interface] keys wg-quick handles itself; `wg setconf` rejects them.
var wgQuickOnly = map[string]bool{"address": true, "dns": true, "mtu": true, "table": true, "preup": true,
	"postup": true, "predown": true, "postdown": true, "saveconfig": true}

func startVPNClient(t *testing.T, ns, iface, conf string) *vpnClient {
	t.Helper()
	c := &vpnClient{ns: ns, iface: iface}
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
	c.WireguardGo = netnstest.StartWireguardGo(t, ns, iface)
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

// nsReadAll reads a response body for a test message.
func nsReadAll(r io.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}
