package vpn

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// TestEndToEnd runs the VPN part in userspace mode in a "server" namespace (this CI kernel has no
// WireGuard module) with two employees' devices, Debian's wireguard-go + wg, in namespaces of their
// own and a "LAN" namespace behind the server:
//
//	cli (10.200.1.2) ──┐                          ┌── lan 192.168.77.2, .3 (no route back to the VPN)
//	                   ├── srv 10.86.0.1/24, lan0 192.168.77.1
//	cl2 (10.200.2.2) ──┘
//
// It covers acceptance 1 (configs from `peer add` and from the one-time link work: ping and TCP to
// the LAN, handshake and traffic visible), 3 (revoke within 2 s, expiry at its time, a peer removed
// by hand comes back, a restart needs no change on the device), 4 (the link serves once; no client
// private key in the data dir) and 5 (groups reach only their destinations, devices never each
// other), and that adding and revoking devices and moving users between groups change only
// elements of the nftables sets, leaving exactly the table a whole install leaves (listed through
// netlink), and that a table removed from outside comes back. Steps depend on each other: the
// first failure stops the test.
func TestEndToEnd(t *testing.T) {
	requireE2E(t)
	tag := randHex(t, 3)
	prefix := "rve-" + tag
	srvNS, cliNS, cl2NS, lanNS := prefix+"-srv", prefix+"-cli", prefix+"-cl2", prefix+"-lan"
	for _, ns := range []string{srvNS, cliNS, cl2NS, lanNS} {
		addNetns(t, ns)
	}
	veth(t, srvNS, "up1", "10.200.1.1/24", cliNS, "up0", "10.200.1.2/24")
	veth(t, srvNS, "up2", "10.200.2.1/24", cl2NS, "up0", "10.200.2.2/24")
	veth(t, srvNS, "lan0", "192.168.77.1/24", lanNS, "eth0", "192.168.77.2/24")
	run(t, "ip", "-n", lanNS, "addr", "add", "192.168.77.3/24", "dev", "eth0")
	// The one endpoint in the configs is 10.200.1.1; the second device reaches it through the server.
	run(t, "ip", "-n", cl2NS, "route", "add", "10.200.1.0/24", "via", "10.200.2.1")
	for _, a := range []string{"192.168.77.2:8080", "192.168.77.3:8080"} {
		serveTCP(t, lanNS, a)
	}
	// Interface names are unique across namespaces: /var/run/wireguard is shared by all of them.
	srvIf, cliIf, cl2If, cl3If := "rves"+tag, "rvec"+tag, "rved"+tag, "rvee"+tag
	dataDir := t.TempDir()
	start := e2eReq{Op: "start", Dir: dataDir, Iface: srvIf, Endpoint: "10.200.1.1:51820", LAN: "192.168.77.0/24"}
	srv := startServer(t, srvNS)
	srv.must(start)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec_("wg", "show", "all")
			nft, _ := exec_("ip", "netns", "exec", srvNS, "nft", "list", "ruleset")
			t.Logf("wg show all:\n%s\nnft in server:\n%s", out, nft)
		}
	})
	step := func(name string) { t.Logf("step: %s", name) }
	mustDial := func(ns, addr, what string) {
		t.Helper()
		seen, err := dialTCP(ns, addr)
		if err != nil {
			t.Fatalf("%s: TCP %s from %s: %v", what, addr, ns, err)
		}
		if seen != "192.168.77.1" {
			t.Fatalf("%s: the LAN host saw %s, want the server's LAN address (masquerade)", what, seen)
		}
	}
	mustNotDial := func(ns, addr, why string) {
		t.Helper()
		if _, err := dialTCP(ns, addr); err == nil {
			t.Fatalf("TCP %s from %s connected, want it blocked (%s)", addr, ns, why)
		}
	}
	var privateKeys []string
	keep := func(conf string) string {
		if m := regexp.MustCompile(`PrivateKey = (\S+)`).FindStringSubmatch(conf); m != nil {
			privateKeys = append(privateKeys, m[1])
		}
		return conf
	}

	step("device 1 from `peer add`, device 2 from a one-time link")
	anna := srv.must(e2eReq{Op: "add", User: "anna@comune.example.it", Name: "portatile"})
	startDevice(t, cliNS, cliIf, keep(anna.Config))
	bruno := srv.must(e2eReq{Op: "add", User: "bruno@comune.example.it", Name: "portatile", Link: true})
	if bruno.Config != "" || !strings.HasPrefix(bruno.Link, "http://"+e2eHTTP+"/vpn/link/") {
		t.Fatalf("link delivery: config %q link %q", bruno.Config, bruno.Link)
	}
	web := httpIn(srvNS)
	res, err := web.Get(bruno.Link)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("open the link page: %v %v", err, res)
	}
	res.Body.Close()
	type fetch struct {
		status int
		body   string
	}
	results := make(chan fetch, 2)
	for range 2 { // two concurrent fetches: exactly one gets the configuration
		go func() {
			st, body, err := postForm(web, bruno.Link, url.Values{"format": {"conf"}})
			if err != nil {
				st, body = 0, err.Error()
			}
			results <- fetch{st, body}
		}()
	}
	var conf2 string
	var statuses []int
	for range 2 {
		f := <-results
		statuses = append(statuses, f.status)
		if f.status == http.StatusOK {
			conf2 = f.body
		}
	}
	if conf2 == "" || !(statuses[0] == 200 && statuses[1] == 410 || statuses[0] == 410 && statuses[1] == 200) {
		t.Fatalf("two concurrent link fetches got %v, want one 200 and one 410", statuses)
	}
	cl2 := startDevice(t, cl2NS, cl2If, keep(conf2))

	step("ping and TCP through the tunnels to the LAN")
	if !reachable(cliNS, "10.86.0.1", 30*time.Second) || !reachable(cl2NS, "10.86.0.1", 30*time.Second) {
		t.Fatal("a device cannot ping the server through the tunnel")
	}
	if !reachable(cliNS, "192.168.77.2", 10*time.Second) {
		t.Fatal("device 1 cannot ping the LAN host")
	}
	mustDial(cliNS, "192.168.77.2:8080", "device 1 to the LAN")
	mustDial(cl2NS, "192.168.77.3:8080", "device 2 to the LAN")
	waitUntil(t, 30*time.Second, "the server to record handshake and traffic", func() bool {
		p := srv.peer(anna.ID)
		return p != nil && p.Online && !p.LastHandshake.IsZero() && p.RxBytes > 0 && p.TxBytes > 0 && p.Endpoint != ""
	})

	step("groups: a device in group A reaches only A's destinations, never another device")
	groupA := srv.must(e2eReq{Op: "group", Name: "A", Dst: "192.168.77.2", Port: "tcp/8080", User: "anna@comune.example.it"}).ID
	mustDial(cliNS, "192.168.77.2:8080", "group A's destination")
	mustNotDial(cliNS, "192.168.77.3:8080", "not a destination of group A")
	if ping(cliNS, "192.168.77.2", time.Second) {
		t.Fatal("group A allows only tcp/8080, but ping to 192.168.77.2 passed")
	}
	mustDial(cl2NS, "192.168.77.3:8080", "a user in no group keeps the default access")
	if ping(cliNS, "10.86.0.3", time.Second) || ping(cl2NS, "10.86.0.2", time.Second) {
		t.Fatal("one device reached another")
	}

	step("devices and members change only set elements, and leave what a whole install leaves")
	state := func() string { return srv.must(e2eReq{Op: "firewall_state"}).State }
	sameAsRebuild := func(what string) string {
		t.Helper()
		incremental := state()
		srv.must(e2eReq{Op: "firewall_rebuild"})
		if rebuilt := state(); rebuilt != incremental {
			t.Fatalf("%s: the table is\n%s\na whole install of the same state is\n%s", what, incremental, rebuilt)
		}
		return incremental
	}
	setChanges := func() int { return strings.Count(srv.stderr.String(), "vpn firewall sets updated") }
	changes0 := setChanges()
	before := sameAsRebuild("groups set up")
	extra := srv.must(e2eReq{Op: "add", User: "bruno@comune.example.it", Name: "tablet"})
	withExtra := sameAsRebuild("a device added")
	if addr := srv.peer(extra.ID).Address.String(); strings.Contains(before, addr) || !strings.Contains(withExtra, addr) {
		t.Fatalf("the new device's address %s is not (only) in the table after the add:\n%s", addr, withExtra)
	}
	srv.must(e2eReq{Op: "revoke", ID: extra.ID})
	if after := sameAsRebuild("a device revoked"); after != before {
		t.Fatalf("after an add and a revoke the table is\n%s\nbefore it was\n%s", after, before)
	}
	mustDial(cliNS, "192.168.77.2:8080", "group A's destination after the add and revoke")
	mustNotDial(cliNS, "192.168.77.3:8080", "not a destination of group A, after the add and revoke")
	mustDial(cl2NS, "192.168.77.3:8080", "the default access after the add and revoke")
	if ping(cliNS, "10.86.0.3", time.Second) || ping(cl2NS, "10.86.0.2", time.Second) {
		t.Fatal("one device reached another after the add and revoke")
	}
	srv.must(e2eReq{Op: "member_add", ID: groupA, User: "bruno@comune.example.it"})
	mustNotDial(cl2NS, "192.168.77.3:8080", "bruno joined group A, which does not reach .3")
	mustDial(cl2NS, "192.168.77.2:8080", "bruno joined group A")
	sameAsRebuild("a user joined a group")
	srv.must(e2eReq{Op: "member_remove", ID: groupA, User: "bruno@comune.example.it"})
	mustDial(cl2NS, "192.168.77.3:8080", "bruno left group A")
	if after := sameAsRebuild("a user left a group"); after != before {
		t.Fatalf("after joining and leaving a group the table is\n%s\nbefore it was\n%s", after, before)
	}
	// Add, revoke, join and leave each changed set elements in the kernel, with no fallback.
	if n := setChanges() - changes0; n != 4 || strings.Contains(srv.stderr.String(), "installing the whole table again") {
		t.Fatalf("%d set changes applied (want 4), or a fallback to a whole install; server log:\n%s", n, srv.stderr.String())
	}

	step("a firewall table removed from outside comes back")
	srv.must(e2eReq{Op: "firewall_remove"})
	waitUntil(t, 35*time.Second, "the reconcile loop to install the firewall again", func() bool { return state() == before })
	mustNotDial(cliNS, "192.168.77.3:8080", "the firewall is back: not a destination of group A")
	mustDial(cliNS, "192.168.77.2:8080", "the firewall is back: group A's destination")

	step("a peer removed by hand with wgctrl comes back")
	wc, err := wgctrl.New()
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	annaKey := srv.peer(anna.ID).PublicKey
	key, _ := wgtypes.ParseKey(annaKey)
	if err := wc.ConfigureDevice(srvIf, wgtypes.Config{Peers: []wgtypes.PeerConfig{{PublicKey: key, Remove: true}}}); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	waitUntil(t, 35*time.Second, "the removed peer to be back on the interface", func() bool {
		d, err := wc.Device(srvIf)
		if err != nil {
			return false
		}
		for _, p := range d.Peers {
			if p.PublicKey == key {
				return true
			}
		}
		return false
	})
	if took := time.Since(removed); took > 30*time.Second {
		t.Errorf("the removed peer came back after %s, more than 30 s", took)
	}
	// The device notices its session is gone and handshakes again by itself (WireGuard's own
	// timers: up to about 15 s of silence).
	waitUntil(t, 30*time.Second, "device 1 to reach the LAN again", func() bool {
		_, err := dialTCP(cliNS, "192.168.77.2:8080")
		return err == nil
	})

	step("revoke: traffic stops at once")
	srv.must(e2eReq{Op: "revoke", ID: bruno.ID})
	mustNotDial(cl2NS, "192.168.77.3:8080", "the device was revoked")
	if ping(cl2NS, "10.86.0.1", time.Second) {
		t.Fatal("the revoked device still pings the server")
	}
	cl2.Stop()

	step("expiry: a device stops at its expiry time")
	expires := time.Now().Add(8 * time.Second).Truncate(time.Second)
	temp := srv.must(e2eReq{Op: "add", User: "bruno@comune.example.it", Name: "temporaneo", ExpiresAt: expires})
	startDevice(t, cl2NS, cl3If, keep(temp.Config))
	if !reachable(cl2NS, "10.86.0.1", 6*time.Second) {
		t.Fatal("the expiring device cannot reach the server before its expiry")
	}
	var stopped time.Time
	waitUntil(t, time.Until(expires)+10*time.Second, "the expired device to lose access", func() bool {
		if ping(cl2NS, "10.86.0.1", 300*time.Millisecond) {
			return false
		}
		stopped = time.Now()
		return true
	})
	if late := stopped.Sub(expires); late > 2*time.Second {
		t.Errorf("the device lost access %s after its expiry, want within 2 s", late)
	}
	t.Logf("expiry at %s, access lost %s later", expires.Format(time.TimeOnly), stopped.Sub(expires).Round(time.Millisecond))

	step("restart: device 1 works again with no change on its side")
	srv.stop()
	srv = startServer(t, srvNS)
	srv.must(start)
	if !reachable(cliNS, "10.86.0.1", 60*time.Second) {
		t.Fatal("after the restart device 1 cannot reach the server")
	}
	mustDial(cliNS, "192.168.77.2:8080", "after the restart (group rules restored)")
	mustNotDial(cliNS, "192.168.77.3:8080", "after the restart the group still limits device 1")

	step("no client private key anywhere in the data dir")
	if len(privateKeys) != 3 {
		t.Fatalf("collected %d private keys, want 3", len(privateKeys))
	}
	filepath.WalkDir(dataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, k := range privateKeys {
			raw, _ := wgtypes.ParseKey(k)
			if bytes.Contains(b, []byte(k)) || bytes.Contains(b, raw[:]) {
				t.Errorf("a client private key is in %s", path)
			}
		}
		return nil
	})
}

// exec_ runs a command and returns its output and error, for diagnostics.
func exec_(args ...string) (string, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	return string(out), err
}
