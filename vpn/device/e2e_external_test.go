package device

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/rocca-pa/rocca/internal/netnstest"
)

// TestExternalMode drives an interface that Debian's wireguard-go runs as a process of its own in
// the "server" namespace, as a wireguard-go service would, with an independent client:
//
//	cli (10.200.1.2) ── srv: wireguard-go's interface, configured by the device as 10.86.0.1/24
//
// Open never creates the interface; Close and Destroy leave it and its tunnel up (a client pinging
// every 10 ms loses nothing and keeps its session); when its program stops, Peers says the
// interface is gone; when the program starts again, Peers says it is a new interface, and a new
// Open configures it again. Each step relies on the ones before.
func TestExternalMode(t *testing.T) {
	requireE2E(t)
	tag := randHex(t, 3)
	prefix := "rdx-" + itoa(os.Getpid()) + "-" + tag
	srvNS, cliNS := prefix+"-srv", prefix+"-cli"
	addNetns(t, srvNS)
	addNetns(t, cliNS)
	veth(t, srvNS, "up1", "10.200.1.1/24", cliNS, "up0", "10.200.1.2/24")
	// Interface names are unique across namespaces: /var/run/wireguard is shared by all of them.
	srvIf, cliIf, tunIf := "rdxs"+tag, "rdxc"+tag, "rdxt"+tag
	srvKey, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	opts := helperOpts{Name: srvIf, Mode: ModeExternal, Port: 51820, Key: srvKey.String(),
		Addresses: []netip.Prefix{netip.MustParsePrefix("10.86.0.1/24")}}
	srv := startHelper(t, srvNS)
	linkThere := func() bool { _, err := exec_("ip", "-n", srvNS, "link", "show", srvIf); return err == nil }
	step := func(name string) { t.Logf("step: %s", name) }

	step("no interface yet: a clear error, and nothing created")
	if r := srv.call(helperReq{Op: "open", Opts: opts}); r.OK || r.Key != "vpn.device.external_missing" || r.Code != "unavailable" {
		t.Fatalf("Open in external mode without the interface: %+v, want the user error vpn.device.external_missing", r)
	}
	if linkThere() {
		t.Fatal("Open in external mode created the interface")
	}
	// A TUN interface no wireguard-go serves (no control socket) is not one Rocca can configure.
	run(t, "ip", "-n", srvNS, "tuntap", "add", "mode", "tun", "name", tunIf)
	bare := opts
	bare.Name = tunIf
	if r := srv.call(helperReq{Op: "open", Opts: bare}); r.OK || r.Key != "vpn.device.external_not_wireguard" {
		t.Errorf("Open in external mode on a bare TUN interface: %+v, want the user error vpn.device.external_not_wireguard", r)
	}

	step("the interface of a separate wireguard-go, configured by Open")
	engine := netnstest.StartWireguardGo(t, srvNS, srvIf)
	if got := srv.must(helperReq{Op: "open", Opts: opts}).Mode; got != ModeExternal {
		t.Fatalf("mode %q, want external", got)
	}
	dump := strings.Split(strings.TrimSpace(run(t, "wg", "show", srvIf, "dump")), "\n")
	if head := strings.Split(dump[0], "\t"); head[1] != srvKey.PublicKey().String() || head[2] != "51820" {
		t.Errorf("wg show %s dump = %q, want our public key and port 51820", srvIf, dump)
	}
	if out := run(t, "ip", "-n", srvNS, "addr", "show", srvIf); !strings.Contains(out, "10.86.0.1/24") || !strings.Contains(out, "UP") {
		t.Errorf("the interface is not up with 10.86.0.1/24:\n%s", out)
	}
	cli := startClient(t, cliNS, cliIf, "10.86.0.2/24", srvKey.PublicKey(), "10.200.1.1:51820", "10.86.0.0/24")
	srv.must(helperReq{Op: "apply_peers", Peers: []helperPeer{{Key: cli.key.PublicKey().String(), AllowedIPs: prefixes("10.86.0.2/32")}}})
	ping := newPinger(t, cliNS, "10.86.0.1")
	ping.reachable(t, 30*time.Second, "client to server")

	step("Close, Destroy and a new Open leave the tunnel alone (ping every 10 ms)")
	before := cli.show(t)
	stop := make(chan struct{})
	type result struct {
		sent, lost int
		maxRTT     time.Duration
	}
	done := make(chan result)
	go func() {
		s, l, m := ping.flood(10*time.Millisecond, stop)
		done <- result{s, l, m}
	}()
	answered := func(what string) {
		t.Helper()
		base := ping.LastSeq()
		waitFor(t, 30*time.Second, "50 answered pings "+what, func() bool { return ping.RepliesSince(base) >= 50 })
	}
	answered("before closing")
	srv.must(helperReq{Op: "close"})
	if !linkThere() {
		t.Fatal("Close in external mode deleted the interface")
	}
	answered("with the device closed")
	srv.must(helperReq{Op: "open", Opts: opts})
	if n := len(srv.must(helperReq{Op: "peers"}).Peers); n != 1 {
		t.Errorf("%d peers after opening again, want the one kept on the interface", n)
	}
	answered("after opening again")
	srv.must(helperReq{Op: "destroy"})
	if !linkThere() {
		t.Fatal("Destroy in external mode deleted the interface")
	}
	answered("after Destroy")
	close(stop)
	res := <-done
	t.Logf("pings every 10 ms across Close, Open and Destroy: %d sent, %d lost, max RTT %s", res.sent, res.lost, res.maxRTT.Round(time.Millisecond))
	if res.lost != 0 {
		t.Errorf("%d of %d pings lost across Close, Open and Destroy", res.lost, res.sent)
	}
	if after := cli.show(t); after.handshake != before.handshake {
		t.Errorf("the client's handshake changed from %d to %d: the session was reset", before.handshake, after.handshake)
	}

	step("the program stops: the interface is gone; it starts again: a new interface, configured by a new Open")
	srv.must(helperReq{Op: "open", Opts: opts})
	engine.Stop()
	if r := srv.call(helperReq{Op: "peers"}); r.OK || !r.Gone {
		t.Errorf("Peers with the program stopped: %+v, want an error saying the interface does not exist", r)
	}
	netnstest.StartWireguardGo(t, srvNS, srvIf)
	if r := srv.call(helperReq{Op: "peers"}); r.OK || !r.Gone || !strings.Contains(r.Err, "created again") {
		t.Errorf("Peers on the interface of the restarted program: %+v, want an error saying it was created again", r)
	}
	srv.must(helperReq{Op: "close"})
	srv.must(helperReq{Op: "open", Opts: opts})
	srv.must(helperReq{Op: "apply_peers", Peers: []helperPeer{{Key: cli.key.PublicKey().String(), AllowedIPs: prefixes("10.86.0.2/32")}}})
	// The client changes nothing: it handshakes again once its old session goes unanswered.
	took := ping.reachable(t, 60*time.Second, "client to server after its program restarted")
	t.Logf("the client answered again %s after the interface was configured again", took.Round(time.Millisecond))
	srv.must(helperReq{Op: "close"})
}
