package device

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// TestEndToEnd runs the device in userspace mode in a "server" namespace, with Debian's
// wireguard-go as two independent clients in their own namespaces and a "LAN" namespace behind
// the server:
//
//	cli  (10.200.1.2) ──┐                     ┌── lan 192.168.77.2, .3, .4 (no route back to the VPN)
//	                    ├── srv: device 10.86.0.1/24, lan0 192.168.77.1
//	cl2  (10.200.2.2) ──┘
//
// Each step relies on the ones before; the first fatal failure stops the rest.
func TestEndToEnd(t *testing.T) {
	requireE2E(t)
	tag := randHex(t, 3)
	prefix := "rdv-" + strings.Join([]string{itoa(os.Getpid()), tag}, "-")
	srvNS, cliNS, cl2NS, lanNS := prefix+"-srv", prefix+"-cli", prefix+"-cl2", prefix+"-lan"
	for _, ns := range []string{srvNS, cliNS, cl2NS, lanNS} {
		addNetns(t, ns)
	}
	veth(t, srvNS, "up1", "10.200.1.1/24", cliNS, "up0", "10.200.1.2/24")
	veth(t, srvNS, "up2", "10.200.2.1/24", cl2NS, "up0", "10.200.2.2/24")
	veth(t, srvNS, "lan0", "192.168.77.1/24", lanNS, "eth0", "192.168.77.2/24")
	run(t, "ip", "-n", lanNS, "addr", "add", "192.168.77.3/24", "dev", "eth0")
	run(t, "ip", "-n", lanNS, "addr", "add", "192.168.77.4/24", "dev", "eth0")
	for _, a := range []string{"192.168.77.2:8080", "192.168.77.3:8080", "192.168.77.3:9090", "192.168.77.4:8080"} {
		serveTCP(t, lanNS, a)
	}

	// Interface names are unique across namespaces: /var/run/wireguard is shared by all of them.
	srvIf, cliIf, cl2If := "rdvs"+tag, "rdvc"+tag, "rdvd"+tag
	srvKey, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	subnet := netip.MustParsePrefix("10.86.0.0/24")
	opts := helperOpts{Name: srvIf, Mode: ModeUserspace, Port: 51820, Key: srvKey.String(),
		Addresses: []netip.Prefix{netip.MustParsePrefix("10.86.0.1/24")}}
	srv := startHelper(t, srvNS)
	t.Cleanup(func() {
		if t.Failed() { // registered after the helper, so it runs while everything is still up
			diag := []string{run(t, "wg", "show", "all")}
			for _, ns := range []string{srvNS, cliNS, cl2NS} {
				diag = append(diag, ns+":\n"+run(t, "ip", "-n", ns, "addr")+run(t, "ip", "-n", ns, "route"))
			}
			t.Logf("state at failure:\n%s", strings.Join(diag, "\n"))
		}
	})
	var cli, cl2 *wgClient
	var cliPing, cl2Ping *pinger
	peer := func(c *wgClient, allowed ...string) helperPeer {
		return helperPeer{Key: c.key.PublicKey().String(), AllowedIPs: prefixes(allowed...)}
	}
	peersByKey := func() map[string]helperPeer {
		m := map[string]helperPeer{}
		for _, p := range srv.must(helperReq{Op: "peers"}).Peers {
			m[p.Key] = p
		}
		return m
	}
	mustDial := func(ns, addr, wantSeen string) {
		t.Helper()
		seen, err := dialTCP(ns, addr)
		if err != nil {
			t.Fatalf("TCP %s from %s: %v", addr, ns, err)
		}
		if seen != wantSeen {
			t.Fatalf("TCP %s from %s: server saw %s, want %s", addr, ns, seen, wantSeen)
		}
	}
	mustNotDial := func(ns, addr, why string) {
		t.Helper()
		if _, err := dialTCP(ns, addr); err == nil {
			t.Fatalf("TCP %s from %s connected, want it blocked (%s)", addr, ns, why)
		}
	}
	firewall := func(rules ...Rule) {
		t.Helper()
		srv.must(helperReq{Op: "firewall", Iface: srvIf, Subnet: subnet, Rules: rules, Masq: true})
	}
	// Steps are not subtests: clients, pingers and listeners they start must outlive them.
	step := func(name string, f func(t *testing.T)) {
		t.Logf("step: %s", name)
		f(t)
	}

	step("open and handshake", func(t *testing.T) {
		want := ModeUserspace
		if _, err := os.Stat("/sys/module/wireguard"); err == nil {
			want = ModeKernel
		}
		if got := srv.must(helperReq{Op: "probe"}).Mode; got != want {
			t.Errorf("auto mode detection chose %q on this kernel, want %q", got, want)
		}
		if got := srv.must(helperReq{Op: "open", Opts: opts}).Mode; got != ModeUserspace {
			t.Fatalf("mode %q, want userspace", got)
		}
		if r := srv.call(helperReq{Op: "try_open", Opts: opts}); r.OK || r.Key != "vpn.device.name_in_use" {
			t.Errorf("second Open of %s: %+v, want the user error vpn.device.name_in_use", srvIf, r)
		}
		cli = startClient(t, cliNS, cliIf, "10.86.0.2/24", srvKey.PublicKey(), "10.200.1.1:51820", "10.86.0.0/24", "192.168.77.0/24")
		cl2 = startClient(t, cl2NS, cl2If, "10.86.0.3/24", srvKey.PublicKey(), "10.200.2.1:51820", "10.86.0.0/24", "192.168.77.0/24")
		srv.must(helperReq{Op: "apply_peers", Peers: []helperPeer{peer(cli, "10.86.0.2/32"), peer(cl2, "10.86.0.3/32")}})
		cliPing, cl2Ping = newPinger(t, cliNS, "10.86.0.1"), newPinger(t, cl2NS, "10.86.0.1")
		took := cliPing.reachable(t, 30*time.Second, "client 1 to server")
		cl2Ping.reachable(t, 30*time.Second, "client 2 to server")
		t.Logf("first ping answered %s after the first echo (handshake included)", took.Round(time.Millisecond))

		// wg(8) sees the embedded device through its UAPI socket, from any namespace.
		dump := strings.Split(strings.TrimSpace(run(t, "wg", "show", srvIf, "dump")), "\n")
		if head := strings.Split(dump[0], "\t"); len(dump) != 3 || head[1] != srvKey.PublicKey().String() || head[2] != "51820" {
			t.Errorf("wg show %s dump = %q, want our public key, port 51820 and two peers", srvIf, dump)
		}
		if p := peersByKey()[cli.key.PublicKey().String()]; p.Handshake.IsZero() || p.Rx == 0 {
			t.Errorf("Peers: client 1 = %+v, want a handshake and received bytes", p)
		}
	})

	step("200 peers added while the client pings every 10 ms", func(t *testing.T) {
		beforeCli := cli.show(t)
		beforeSrv := peersByKey()[cli.key.PublicKey().String()]
		var many []helperPeer
		for i := range 200 {
			k, err := wgtypes.GeneratePrivateKey()
			if err != nil {
				t.Fatal(err)
			}
			addr := netip.AddrFrom4([4]byte{10, 86, 1 + byte(i/250), 1 + byte(i%250)})
			many = append(many, helperPeer{Key: k.PublicKey().String(), AllowedIPs: []netip.Prefix{netip.PrefixFrom(addr, 32)}})
		}

		stop := make(chan struct{})
		type result struct {
			sent, lost int
			maxRTT     time.Duration
		}
		done := make(chan result)
		go func() {
			s, l, m := cliPing.flood(10*time.Millisecond, stop)
			done <- result{s, l, m}
		}()
		// Pings flow before, during and after the change: 50 answered before, 100 after.
		base := cliPing.LastSeq()
		waitFor(t, 30*time.Second, "50 answered pings before the change", func() bool { return cliPing.RepliesSince(base) >= 50 })
		r := srv.must(helperReq{Op: "apply_peers", Peers: many})
		mid := cliPing.LastSeq()
		waitFor(t, 30*time.Second, "100 answered pings after the change", func() bool { return cliPing.RepliesSince(mid) >= 100 })
		close(stop)
		res := <-done
		t.Logf("ApplyPeers(200 new peers) took %s; pings every 10 ms: %d sent, %d lost, max RTT %s",
			r.Duration.Round(time.Millisecond), res.sent, res.lost, res.maxRTT.Round(time.Millisecond))
		if res.lost != 0 {
			t.Errorf("%d of %d pings lost while peers were added", res.lost, res.sent)
		}

		afterCli := cli.show(t)
		peers := peersByKey()
		afterSrv := peers[cli.key.PublicKey().String()]
		t.Logf("client wg show: handshake %d -> %d, rx %d -> %d, tx %d -> %d",
			beforeCli.handshake, afterCli.handshake, beforeCli.rx, afterCli.rx, beforeCli.tx, afterCli.tx)
		if len(peers) != 202 {
			t.Errorf("%d peers on the device, want 202", len(peers))
		}
		if afterCli.handshake != beforeCli.handshake || !afterSrv.Handshake.Equal(beforeSrv.Handshake) {
			t.Errorf("handshake changed: client %d -> %d, server %s -> %s; want the session kept",
				beforeCli.handshake, afterCli.handshake, beforeSrv.Handshake, afterSrv.Handshake)
		}
		if afterCli.rx <= beforeCli.rx || afterCli.tx <= beforeCli.tx || afterSrv.Rx <= beforeSrv.Rx || afterSrv.Tx <= beforeSrv.Tx {
			t.Errorf("counters not continued: client rx/tx %d/%d -> %d/%d, server %d/%d -> %d/%d",
				beforeCli.rx, beforeCli.tx, afterCli.rx, afterCli.tx, beforeSrv.Rx, beforeSrv.Tx, afterSrv.Rx, afterSrv.Tx)
		}
	})

	toCl2 := newPinger(t, cliNS, "10.86.0.3")
	toLan := newPinger(t, cliNS, "192.168.77.2")
	step("IPv4 forwarding", func(t *testing.T) {
		// A new namespace starts with forwarding off: the server drops what is not for itself.
		toCl2.unreachable(t, "client 1 to client 2 with forwarding off")
		srv.must(helperReq{Op: "forwarding"})
		toCl2.reachable(t, 10*time.Second, "client 1 to client 2 with forwarding on and no firewall yet")
		// Without masquerade the LAN host cannot answer: it has no route back to the VPN.
		toLan.unreachable(t, "client 1 to a LAN host without masquerade")
	})

	step("firewall", func(t *testing.T) {
		firewall(
			Rule{Src: prefixes("10.86.0.2/32"), Dst: netip.MustParsePrefix("192.168.77.2/32")},
			Rule{Src: prefixes("10.86.0.2/32"), Dst: netip.MustParsePrefix("192.168.77.3/32"), Proto: "tcp", Port: 8080},
		)
		toLan.reachable(t, 10*time.Second, "client 1 to an allowed LAN host")
		mustDial(cliNS, "192.168.77.2:8080", "192.168.77.1") // masqueraded behind the server's LAN address
		mustDial(cliNS, "192.168.77.3:8080", "192.168.77.1")
		mustNotDial(cliNS, "192.168.77.3:9090", "only port 8080 of .3 is allowed")
		mustNotDial(cliNS, "192.168.77.4:8080", ".4 is in no rule")
		mustNotDial(cl2NS, "192.168.77.2:8080", "client 2 is in no rule")
		newPinger(t, cliNS, "192.168.77.3").unreachable(t, "client 1 to .3, where only TCP 8080 is allowed")
		toCl2.unreachable(t, "client 1 to client 2: devices cannot reach each other")
	})

	step("firewall replaced as a whole", func(t *testing.T) {
		firewall(
			Rule{Src: prefixes("10.86.0.2/32", "10.86.0.3/32"), Dst: netip.MustParsePrefix("192.168.77.2/32"), Proto: "tcp", Port: 8080},
			Rule{Src: prefixes("10.86.0.2/32"), Dst: netip.MustParsePrefix("192.168.77.4/32")},
		)
		mustDial(cl2NS, "192.168.77.2:8080", "192.168.77.1")
		mustDial(cliNS, "192.168.77.4:8080", "192.168.77.1")
		mustNotDial(cliNS, "192.168.77.3:8080", "its rule was replaced away")
		toLan.unreachable(t, "client 1 to .2, now TCP 8080 only")
	})

	step("named sets changed element by element, as a rebuild would leave them", func(t *testing.T) {
		a2, a3 := netip.MustParseAddr("10.86.0.2"), netip.MustParseAddr("10.86.0.3")
		policy := func(lan2, lan3 []netip.Addr) helperReq {
			return helperReq{Op: "firewall", Iface: srvIf, Subnet: subnet, Masq: true,
				Sets: []Set{{Name: "lan2", Addrs: lan2}, {Name: "lan3", Addrs: lan3}},
				Rules: []Rule{
					{SrcSet: "lan2", Dst: netip.MustParsePrefix("192.168.77.2/32"), Proto: "tcp", Port: 8080},
					{SrcSet: "lan3", Dst: netip.MustParsePrefix("192.168.77.3/32"), Proto: "tcp", Port: 8080},
				}}
		}
		state := func() string { return srv.must(helperReq{Op: "firewall_state"}).State }
		srv.must(policy([]netip.Addr{a2}, nil))
		mustDial(cliNS, "192.168.77.2:8080", "192.168.77.1")
		mustNotDial(cl2NS, "192.168.77.2:8080", "client 2 is in no set")
		mustNotDial(cliNS, "192.168.77.3:8080", "set lan3 is empty")

		// Client 2 joins lan3 and client 1 moves from lan2 to lan3, in one transaction.
		srv.must(helperReq{Op: "update_sets", Change: []SetChange{
			{Set: "lan3", Add: []netip.Addr{a3, a2}}, {Set: "lan2", Delete: []netip.Addr{a2}}}})
		mustDial(cl2NS, "192.168.77.3:8080", "192.168.77.1")
		mustDial(cliNS, "192.168.77.3:8080", "192.168.77.1")
		mustNotDial(cliNS, "192.168.77.2:8080", "client 1 left lan2")
		mustNotDial(cl2NS, "192.168.77.2:8080", "client 2 is not in lan2")
		toCl2.unreachable(t, "client 1 to client 2 with both in one set")

		incremental := state()
		srv.must(policy(nil, []netip.Addr{a2, a3}))
		rebuilt := state()
		if incremental != rebuilt {
			t.Errorf("table after the element changes:\n%s\nafter a rebuild of the same sets:\n%s", incremental, rebuilt)
		}
		for _, want := range []string{"set lan2 type ipv4_addr flags constant=false interval=false: []\n",
			"set lan3 type ipv4_addr flags constant=false interval=false: [10.86.0.2 10.86.0.3]\n", "lookup@lan3{"} {
			if !strings.Contains(rebuilt, want) {
				t.Errorf("listed table lacks %q:\n%s", want, rebuilt)
			}
		}

		// All or nothing: a batch whose delete finds nothing changes nothing, nor does a missing set.
		if r := srv.call(helperReq{Op: "update_sets", Change: []SetChange{
			{Set: "lan2", Add: []netip.Addr{a3}}, {Set: "lan3", Delete: []netip.Addr{netip.MustParseAddr("10.86.0.9")}}}}); r.OK {
			t.Error("deleting an address that is in no set succeeded")
		}
		if r := srv.call(helperReq{Op: "update_sets", Change: []SetChange{{Set: "gone", Add: []netip.Addr{a3}}}}); r.OK {
			t.Error("adding to a set that does not exist succeeded")
		}
		if got := state(); got != rebuilt {
			t.Errorf("a failed batch changed the table:\n%s\nwant\n%s", got, rebuilt)
		}
		mustNotDial(cl2NS, "192.168.77.2:8080", "the failed batch added nothing to lan2")
	})

	step("removed peer blocked at once", func(t *testing.T) {
		cl2Ping.reachable(t, 10*time.Second, "client 2 to server before removal")
		srv.must(helperReq{Op: "apply_peers", Peers: []helperPeer{{Key: cl2.key.PublicKey().String(), Remove: true}}})
		cl2Ping.unreachable(t, "client 2 right after its removal")
		cliPing.reachable(t, 5*time.Second, "client 1 after client 2's removal")
		if _, ok := peersByKey()[cl2.key.PublicKey().String()]; ok {
			t.Errorf("client 2 still listed by Peers")
		}
	})

	step("routes", func(t *testing.T) {
		// 10.99.0.5 lives on client 1's tunnel interface; the server reaches it only through a
		// route via the device (and client 1's allowed IPs).
		srv.must(helperReq{Op: "apply_peers", Peers: []helperPeer{peer(cli, "10.86.0.2/32", "10.99.0.0/24")}})
		run(t, "ip", "-n", cliNS, "addr", "add", "10.99.0.5/32", "dev", cliIf)
		fromSrv := newPinger(t, srvNS, "10.99.0.5")
		fromSrv.unreachable(t, "server to 10.99.0.5 without a route")
		routes := prefixes("10.99.0.0/24")
		srv.must(helperReq{Op: "routes", Routes: routes})
		srv.must(helperReq{Op: "routes", Routes: routes}) // idempotent
		fromSrv.reachable(t, 10*time.Second, "server to 10.99.0.5 with the route")
		if out := strings.TrimSpace(run(t, "ip", "-n", srvNS, "route", "show", "proto", "82")); out != "10.99.0.0/24 dev "+srvIf+" scope link" {
			t.Errorf("routes we own: %q, want just 10.99.0.0/24 via %s", out, srvIf)
		}
		srv.must(helperReq{Op: "routes"})
		fromSrv.unreachable(t, "server to 10.99.0.5 after the route was removed")
	})

	step("UAPI socket removed by hand", func(t *testing.T) {
		sock := "/var/run/wireguard/" + srvIf + ".sock"
		if err := os.Remove(sock); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "the device to open its UAPI socket again", func() bool {
			_, err := exec_("wg", "show", srvIf)
			return err == nil
		})
		srv.must(helperReq{Op: "peers"})
	})

	step("firewall removed", func(t *testing.T) {
		srv.must(helperReq{Op: "remove_firewall"})
		srv.must(helperReq{Op: "remove_firewall"}) // no table is not an error
		if r := srv.must(helperReq{Op: "firewall_state"}); r.Present || r.State != "" {
			t.Errorf("after RemoveFirewall: present %v, listing %q; want no table", r.Present, r.State)
		}
		mustNotDial(cliNS, "192.168.77.2:8080", "no masquerade any more")
		firewall(Rule{Src: prefixes("10.86.0.2/32"), Dst: netip.MustParsePrefix("192.168.77.0/24")})
	})

	step("restart in userspace mode", func(t *testing.T) {
		srv.must(helperReq{Op: "close"})
		if _, err := os.Stat("/var/run/wireguard/" + srvIf + ".sock"); err == nil {
			t.Errorf("UAPI socket left behind by Close")
		}
		if out, err := exec_("ip", "-n", srvNS, "link", "show", srvIf); err == nil {
			t.Errorf("interface still present after Close in userspace mode:\n%s", out)
		}
		start := time.Now()
		srv.must(helperReq{Op: "open", Opts: opts})
		srv.must(helperReq{Op: "apply_peers", Peers: []helperPeer{peer(cli, "10.86.0.2/32")}})
		// The client changes nothing: it handshakes again once its old session goes unanswered.
		cliPing.reachable(t, 60*time.Second, "client 1 after the server restarted")
		t.Logf("client 1 answered again %s after the reopen", time.Since(start).Round(time.Millisecond))
		mustDial(cliNS, "192.168.77.4:8080", "192.168.77.1") // the firewall matched the name, not the old link
	})

	step("interface deleted by hand", func(t *testing.T) {
		run(t, "ip", "-n", srvNS, "link", "del", srvIf)
		waitFor(t, 15*time.Second, "Peers to report the interface gone", func() bool {
			return srv.call(helperReq{Op: "peers"}).Gone
		})
		if r := srv.call(helperReq{Op: "apply_peers", Peers: []helperPeer{peer(cl2, "10.86.0.3/32")}}); r.OK || !r.Gone {
			t.Errorf("ApplyPeers on a deleted interface: %+v, want an error saying it does not exist", r)
		}
		srv.must(helperReq{Op: "close"})
		srv.must(helperReq{Op: "open", Opts: opts})
		srv.must(helperReq{Op: "apply_peers", Peers: []helperPeer{peer(cli, "10.86.0.2/32")}})
		if n := len(srv.must(helperReq{Op: "peers"}).Peers); n != 1 {
			t.Errorf("%d peers after reopening, want 1", n)
		}
	})

	step("destroy", func(t *testing.T) {
		srv.must(helperReq{Op: "destroy"})
		if out, err := exec_("ip", "-n", srvNS, "link", "show", srvIf); err == nil {
			t.Errorf("interface still present after Destroy:\n%s", out)
		}
		srv.must(helperReq{Op: "remove_firewall"})
	})
}

// TestOpenWithoutCapNetAdmin checks the user errors when the process lacks CAP_NET_ADMIN, by
// running the helper under setpriv with that capability dropped, in a namespace of its own.
func TestOpenWithoutCapNetAdmin(t *testing.T) {
	requireE2E(t, "setpriv")
	tag := randHex(t, 3)
	ns := "rdv-" + itoa(os.Getpid()) + "-" + tag + "-cap"
	addNetns(t, ns)
	srv := startHelper(t, ns, "setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--")
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{ModeAuto, ModeUserspace} {
		r := srv.call(helperReq{Op: "open", Opts: helperOpts{Name: "rdvx" + tag, Mode: mode, Port: 51820, Key: key.String()}})
		if r.OK || r.Key != "vpn.device.no_permission" || r.Code != "unavailable" {
			t.Errorf("Open in %s mode without CAP_NET_ADMIN: %+v, want the user error vpn.device.no_permission", mode, r)
		}
	}
	r := srv.call(helperReq{Op: "firewall", Iface: "rdvx" + tag, Subnet: netip.MustParsePrefix("10.86.0.0/24"), Masq: true})
	if r.OK || r.Key != "vpn.device.no_permission" {
		t.Errorf("ApplyFirewall without CAP_NET_ADMIN: %+v, want the user error vpn.device.no_permission", r)
	}
}
