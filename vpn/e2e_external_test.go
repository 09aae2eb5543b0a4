package vpn

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/internal/netnstest"
)

// TestExternalRestart runs the VPN part in external mode on an interface that Debian's
// wireguard-go runs as a process of its own in the "server" namespace (as a wireguard-go systemd
// service would), with an employee's device in its own namespace and a LAN host behind the server:
//
//	cli (10.200.1.2) ── srv: wireguard-go's interface, 10.86.0.1/24; lan0 192.168.77.1 ── lan 192.168.77.2
//
// It covers what the mode is for: Rocca starts before the interface exists and says why the VPN
// is down (status, /readyz, log) without creating it; it configures the interface once it
// appears; restarting Rocca while the device pings a LAN host every 10 ms loses no echo and
// resets no session; and when the program that runs the interface stops and starts again, Rocca
// says so and applies key, port, address, devices and firewall again by itself. Steps depend on
// each other: the first failure stops the test.
func TestExternalRestart(t *testing.T) {
	requireE2E(t)
	tag := randHex(t, 3)
	prefix := "rvx-" + tag
	srvNS, cliNS, lanNS := prefix+"-srv", prefix+"-cli", prefix+"-lan"
	for _, ns := range []string{srvNS, cliNS, lanNS} {
		addNetns(t, ns)
	}
	veth(t, srvNS, "up1", "10.200.1.1/24", cliNS, "up0", "10.200.1.2/24")
	veth(t, srvNS, "lan0", "192.168.77.1/24", lanNS, "eth0", "192.168.77.2/24")
	serveTCP(t, lanNS, "192.168.77.2:8080")
	// Interface names are unique across namespaces: /var/run/wireguard is shared by all of them.
	srvIf, cliIf := "rvxs"+tag, "rvxc"+tag
	start := e2eReq{Op: "start", Dir: t.TempDir(), Iface: srvIf, Mode: ModeExternal, Endpoint: "10.200.1.1:51820", LAN: "192.168.77.0/24"}
	step := func(name string) { t.Logf("step: %s", name) }
	status := func(srv *e2eProc) *Status { return srv.must(e2eReq{Op: "status"}).Status }
	ready := func() (int, string) {
		t.Helper()
		res, err := httpIn(srvNS).Get("http://" + e2eHTTP + "/readyz")
		if err != nil {
			t.Fatalf("GET /readyz: %v", err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	linkThere := func() bool { _, err := exec_("ip", "-n", srvNS, "link", "show", srvIf); return err == nil }
	handshakes := func() string { // the client's and the server's view of their one session
		t.Helper()
		return run(t, "ip", "netns", "exec", cliNS, "wg", "show", cliIf, "latest-handshakes") +
			run(t, "wg", "show", srvIf, "latest-handshakes")
	}

	step("Rocca starts before the interface exists: it says why, and creates nothing")
	srv := startServer(t, srvNS)
	noWait := start
	noWait.NoWait = true
	srv.must(noWait)
	waitUntil(t, 10*time.Second, "the status to name the missing interface", func() bool {
		return status(srv).ProblemKey == "vpn.device.external_missing"
	})
	if st := status(srv); st.Up || !strings.Contains(st.Problem, srvIf) {
		t.Errorf("status without the interface: up %v, problem %q; want down, naming %s", st.Up, st.Problem, srvIf)
	}
	if code, body := ready(); code != http.StatusServiceUnavailable || !strings.Contains(body, "vpn: failing") {
		t.Errorf("/readyz without the interface: %d %q, want 503 with the vpn check failing", code, body)
	}
	if !strings.Contains(srv.stderr.String(), "does not exist: with mode = \\\"external\\\"") {
		t.Errorf("the log does not say the interface is missing:\n%s", srv.stderr.String())
	}
	if linkThere() {
		t.Fatal("Rocca created the interface in external mode")
	}

	step("the program that runs the interface starts: Rocca configures it within a reconcile pass")
	engine := netnstest.StartWireguardGo(t, srvNS, srvIf)
	waitUntil(t, 35*time.Second, "the VPN to be up in external mode", func() bool {
		st := status(srv)
		return st.Up && st.Mode == ModeExternal
	})
	if code, body := ready(); code != http.StatusOK {
		t.Errorf("/readyz with the interface configured: %d %q, want 200", code, body)
	}
	anna := srv.must(e2eReq{Op: "add", User: "anna@comune.example.it", Name: "portatile"})
	startDevice(t, cliNS, cliIf, anna.Config)
	toLAN := netnstest.NewPinger(t, cliNS, "192.168.77.2")
	if !toLAN.Reachable(30 * time.Second) {
		t.Fatal("the device cannot ping the LAN host through the tunnel")
	}
	if seen, err := dialTCP(cliNS, "192.168.77.2:8080"); err != nil || seen != "192.168.77.1" {
		t.Fatalf("TCP to the LAN: %q %v, want a connection masqueraded behind 192.168.77.1", seen, err)
	}

	step("Rocca restarts while the device pings the LAN every 10 ms: nothing lost, no new session")
	before := handshakes()
	stop := make(chan struct{})
	type flood struct{ first, last uint16 }
	done := make(chan flood)
	go func() {
		first, last := toLAN.Flood(10*time.Millisecond, stop)
		done <- flood{first, last}
	}()
	answered := func(n int, what string) {
		t.Helper()
		base := toLAN.LastSeq()
		waitUntil(t, 30*time.Second, what, func() bool { return toLAN.RepliesSince(base) >= n })
	}
	answered(50, "50 answered pings before the restart")
	srv.stop()
	if !linkThere() {
		t.Fatal("stopping Rocca deleted the interface of external mode")
	}
	answered(50, "50 answered pings while Rocca is stopped")
	srv = startServer(t, srvNS)
	srv.must(start) // returns once the interface is up, after the first reconcile pass
	answered(100, "100 answered pings after the restart")
	close(stop)
	f := <-done
	lost := toLAN.Lost(f.first, f.last)
	t.Logf("pings every 10 ms across the restart: %d sent, %d lost, max RTT %s",
		int(f.last-f.first)+1, lost, toLAN.MaxRTT(f.first, f.last).Round(time.Millisecond))
	if lost != 0 {
		t.Errorf("%d pings lost across the restart of Rocca", lost)
	}
	if after := handshakes(); after != before {
		t.Errorf("the handshakes changed across the restart (a session was reset):\nbefore\n%s\nafter\n%s", before, after)
	}
	if strings.Contains(srv.stderr.String(), "vpn interface reconciled") {
		t.Errorf("the restarted Rocca changed peers on an interface that already matched:\n%s", srv.stderr.String())
	}
	if seen, err := dialTCP(cliNS, "192.168.77.2:8080"); err != nil || seen != "192.168.77.1" {
		t.Errorf("TCP to the LAN after the restart: %q %v", seen, err)
	}

	step("the program stops and starts again: Rocca says so, then applies everything again")
	engine.Stop()
	waitUntil(t, 35*time.Second, "the status to name the missing interface", func() bool {
		return status(srv).ProblemKey == "vpn.device.external_missing"
	})
	if code, _ := ready(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the interface gone: %d, want 503", code)
	}
	netnstest.StartWireguardGo(t, srvNS, srvIf)
	waitUntil(t, 35*time.Second, "the VPN to be up again", func() bool { return status(srv).Up })
	if dump := run(t, "wg", "show", srvIf, "dump"); strings.Count(dump, "\n") != 2 || !strings.Contains(dump, srv.must(e2eReq{Op: "status"}).Status.PublicKey) {
		t.Errorf("the new interface lacks the server key or the device:\n%s", dump)
	}
	// The device changes nothing: it handshakes again once its old session goes unanswered.
	if !toLAN.Reachable(60 * time.Second) {
		t.Fatal("after the program restarted the device cannot reach the LAN")
	}
	if seen, err := dialTCP(cliNS, "192.168.77.2:8080"); err != nil || seen != "192.168.77.1" {
		t.Errorf("TCP to the LAN after the program restarted: %q %v", seen, err)
	}
	if code, body := ready(); code != http.StatusOK {
		t.Errorf("/readyz with the interface back: %d %q, want 200", code, body)
	}
}
