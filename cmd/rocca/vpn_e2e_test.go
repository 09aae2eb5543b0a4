package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/rocca-pa/rocca/internal/adminapi"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/vpn"
)

// These tests run the built binary as an installation would: `rocca serve` with the VPN in
// userspace mode (this CI kernel has no WireGuard module) as a whole process inside a "server"
// network namespace, employees' devices in namespaces of their own running Debian's wireguard-go
// and wg with the files Rocca delivered, and a "LAN" namespace behind the server:
//
//	cli (10.200.1.2) ──┐                                        ┌── lan 192.168.77.2 (no route back)
//	                   ├── srv 10.200.1.1 / 10.200.2.1, lan0 192.168.77.1, VPN 10.86.0.1/16
//	cl2 (10.200.2.2) ──┘
//
// The configs' endpoint is [vpn] endpoint = 10.200.1.1:51820; the second device reaches it through
// a route via the server. The web server listens on 10.200.1.1:8080, so employees open their
// one-time links from their own namespace.

const (
	vpnE2ELAN     = "192.168.77.2"
	vpnE2ELANPort = "192.168.77.2:8080"
	vpnE2EWeb     = "10.200.1.1:8080"
	vpnE2EServer  = "10.86.0.1"
)

// vpnTopology is the namespaces of one test.
type vpnTopology struct {
	tag                 string
	srv, cli, cl2, lan  string
	srvIf, cliIf, cl2If string
	in                  *instance
	adminSock           string
	catalog             *i18n.Catalog
	wg                  *wgctrl.Client
}

func newVPNTopology(t *testing.T) *vpnTopology {
	t.Helper()
	requireVPNE2E(t)
	tag := nsTag(t)
	// Interface names are unique across namespaces: /var/run/wireguard is shared by all of them.
	v := &vpnTopology{tag: tag, srv: "rce-" + tag + "-srv", cli: "rce-" + tag + "-cli", cl2: "rce-" + tag + "-cl2",
		lan: "rce-" + tag + "-lan", srvIf: "rces" + tag, cliIf: "rcec" + tag, cl2If: "rced" + tag}
	for _, ns := range []string{v.srv, v.cli, v.cl2, v.lan} {
		nsAdd(t, ns)
	}
	nsVeth(t, v.srv, "up1", "10.200.1.1/24", v.cli, "up0", "10.200.1.2/24")
	nsVeth(t, v.srv, "up2", "10.200.2.1/24", v.cl2, "up0", "10.200.2.2/24")
	nsVeth(t, v.srv, "lan0", "192.168.77.1/24", v.lan, "eth0", vpnE2ELAN+"/24")
	nsRun(t, "ip", "-n", v.cl2, "route", "add", "10.200.1.0/24", "via", "10.200.2.1")
	nsServeTCP(t, v.lan, vpnE2ELANPort)

	dir := t.TempDir()
	cfg := fmt.Sprintf(`[server]
listen = %q
public_url = "http://%s"
data_dir = %q
metrics_listen = "127.0.0.1:9090"

[municipality]
name = "Comune di Prova"

[vpn]
enabled = true
mode = "userspace"
interface = %q
listen_port = 51820
subnet = "10.86.0.0/16"
endpoint = "10.200.1.1:51820"
lan = ["192.168.77.0/24"]
keepalive = 25

[meetings]
enabled = false

[helpdesk]
enabled = false
`, vpnE2EWeb, vpnE2EWeb, filepath.Join(dir, "data"), v.srvIf)
	path := filepath.Join(dir, "rocca.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o640); err != nil {
		t.Fatal(err)
	}
	v.in = &instance{t: t, dir: dir, config: path, baseURL: "http://" + vpnE2EWeb}
	v.adminSock = filepath.Join(dir, "data", "admin.sock")
	var err error
	if v.catalog, err = i18n.New(); err != nil {
		t.Fatal(err)
	}
	if v.wg, err = wgctrl.New(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.wg.Close() })
	t.Cleanup(func() {
		if t.Failed() { // registered before the server starts, so it runs after the server stopped
			out, _ := exec.Command("wg", "show", "all").CombinedOutput()
			nft, _ := exec.Command("ip", "netns", "exec", v.srv, "nft", "list", "ruleset").CombinedOutput()
			t.Logf("wg show all:\n%s\nnftables in the server namespace:\n%s\nrocca serve log:\n%s", out, nft, v.in.logs)
		}
	})
	return v
}

// start runs `ip netns exec SRV rocca serve` (ip execs rocca: the process is rocca itself) and
// waits until the web server answers inside the namespace and the VPN interface is up.
func (v *vpnTopology) start(t *testing.T) {
	t.Helper()
	in := v.in
	in.logs = &logBuffer{}
	in.done = make(chan struct{})
	in.cmd = exec.Command("ip", "netns", "exec", v.srv, roccaBin(t), "serve", "--config", in.config)
	in.cmd.Env = append(os.Environ(), "ROCCA_LANG=it")
	stderr, err := in.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := in.done
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			in.logs.add(sc.Text())
		}
		in.cmd.Wait()
		close(done)
	}()
	t.Cleanup(in.stop)
	web := nsHTTP(v.srv)
	nsWait(t, 60*time.Second, "rocca serve to answer /healthz in the server namespace", func() bool {
		select {
		case <-done:
			t.Fatalf("rocca serve exited early:\n%s", in.logs)
		default:
		}
		resp, err := web.Get(in.baseURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	nsWait(t, 30*time.Second, "the VPN interface to be up", func() bool {
		var st vpn.Status
		out, _, code := in.rocca("", "vpn", "status", "--json")
		return code == 0 && json.Unmarshal([]byte(out), &st) == nil && st.Up && st.Mode == "userspace"
	})
}

// cmd runs the CLI and fails the test unless it exits 0.
func (v *vpnTopology) cmd(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := v.in.rocca("", args...)
	if code != 0 {
		t.Fatalf("rocca %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (v *vpnTopology) addUser(t *testing.T, email, name string) {
	t.Helper()
	if _, errOut, code := v.in.rocca("Password-lunga-123\n", "user", "add", email, "--name", name, "--role", "staff", "--password-stdin"); code != 0 {
		t.Fatalf("user add %s: %s", email, errOut)
	}
}

// peers is `rocca vpn peer list --json`.
func (v *vpnTopology) peers(t *testing.T, all bool) []vpn.Peer {
	t.Helper()
	args := []string{"vpn", "peer", "list", "--json"}
	if all {
		args = append(args, "--all")
	}
	var list []vpn.Peer
	if err := json.Unmarshal([]byte(v.cmd(t, args...)), &list); err != nil {
		t.Fatalf("peer list --json: %v", err)
	}
	return list
}

func (v *vpnTopology) peerNamed(t *testing.T, owner, name string) *vpn.Peer {
	t.Helper()
	for _, p := range v.peers(t, true) {
		if p.Owner == owner && p.Name == name {
			return &p
		}
	}
	t.Fatalf("no device %q of %s in peer list", name, owner)
	return nil
}

// serverPeer is the server interface's view of one device, read through its UAPI socket; false
// when the interface cannot be read or lacks the device.
func (v *vpnTopology) serverPeer(publicKey string) (wgtypes.Peer, bool) {
	d, err := v.wg.Device(v.srvIf)
	if err != nil {
		return wgtypes.Peer{}, false
	}
	for _, p := range d.Peers {
		if p.PublicKey.String() == publicKey {
			return p, true
		}
	}
	return wgtypes.Peer{}, false
}

// mustDialLAN checks TCP from ns to the LAN service, which sees the server's LAN address
// (masquerade).
func mustDialLAN(t *testing.T, ns, what string) {
	t.Helper()
	seen, err := nsDialTCP(ns, vpnE2ELANPort)
	if err != nil {
		t.Fatalf("%s: TCP %s from %s: %v", what, vpnE2ELANPort, ns, err)
	}
	if seen != "192.168.77.1" {
		t.Fatalf("%s: the LAN host saw %s, want the server's LAN address (masquerade)", what, seen)
	}
}

// TestVPNServeEndToEnd is acceptance 1 (with 3 and 4) of the VPN with the built binary: a device set
// up from `rocca vpn peer add --out` and one from a one-time link (`--link`, of two concurrent
// fetches exactly one gets the file and the other 410 with a clear page) both ping and reach TCP on
// the LAN; `rocca vpn peer list --json` shows handshake and traffic; `rocca vpn peer revoke` stops
// the device's traffic before the command returns; after SIGTERM and a new `rocca serve` the first
// device works again with no change on its side; no client private key is in the data dir, the
// server's log or a `rocca backup` archive.
func TestVPNServeEndToEnd(t *testing.T) {
	v := newVPNTopology(t)
	v.start(t)
	const anna, bruno = "anna@comune.example.it", "bruno@comune.example.it"
	v.addUser(t, anna, "Anna Rossi")
	v.addUser(t, bruno, "Bruno Bianchi")
	var privateKeys []string

	t.Log("step: device 1 from `rocca vpn peer add --out`")
	confFile := filepath.Join(t.TempDir(), "portatile.conf")
	v.cmd(t, "vpn", "peer", "add", "--user", anna, "--name", "portatile", "--out", confFile)
	if fi, err := os.Stat(confFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("--out file: %v %v, want mode 0600", fi, err)
	}
	conf1, _ := os.ReadFile(confFile)
	if !strings.Contains(string(conf1), "Endpoint = 10.200.1.1:51820") {
		t.Fatalf("the configuration does not point at the server's [vpn] endpoint:\n%s", conf1)
	}
	dev1 := startVPNClient(t, v.cli, v.cliIf, string(conf1))
	privateKeys = append(privateKeys, dev1.privateKey)
	p1 := v.peerNamed(t, anna, "portatile")

	t.Log("step: device 2 from a one-time link, fetched by the employee: page, then two concurrent POSTs")
	var added vpn.PeerAddResponse
	if err := json.Unmarshal([]byte(v.cmd(t, "vpn", "peer", "add", "--user", bruno, "--name", "telefono", "--link", "--json")), &added); err != nil {
		t.Fatal(err)
	}
	if added.Config != "" || added.Link == nil || !strings.HasPrefix(added.Link.URL, "http://"+vpnE2EWeb+"/vpn/link/") {
		t.Fatalf("peer add --link: config %q, link %+v; want only a link on the public URL", added.Config, added.Link)
	}
	employee := nsHTTP(v.cl2)
	resp, err := employee.Get(added.Link.URL)
	if err != nil {
		t.Fatal(err)
	}
	page := nsReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`<form method="post" action="(/vpn/link/[^"]+)"`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("link page: %d, no form posting to the link:\n%s", resp.StatusCode, page)
	}
	type fetch struct {
		status int
		body   string
	}
	results := make(chan fetch, 2)
	var ready sync.WaitGroup
	ready.Add(2)
	for range 2 {
		go func() {
			ready.Done()
			ready.Wait() // both requests leave together
			r, err := employee.PostForm("http://"+vpnE2EWeb+m[1], url.Values{"format": {"conf"}})
			if err != nil {
				results <- fetch{0, err.Error()}
				return
			}
			defer r.Body.Close()
			results <- fetch{r.StatusCode, nsReadAll(r.Body)}
		}()
	}
	var conf2, gone string
	var statuses []int
	for range 2 {
		f := <-results
		statuses = append(statuses, f.status)
		switch f.status {
		case http.StatusOK:
			conf2 = f.body
		case http.StatusGone:
			gone = f.body
		}
	}
	if conf2 == "" || gone == "" {
		t.Fatalf("two concurrent fetches of the link got %v, want one 200 and one 410", statuses)
	}
	if title := v.catalog.T("it", "vpn.link.gone_title"); !strings.Contains(gone, title) {
		t.Fatalf("the 410 page does not say %q:\n%s", title, gone)
	}
	if !strings.Contains(conf2, "Endpoint = 10.200.1.1:51820") {
		t.Fatalf("the configuration from the link does not point at the server's endpoint:\n%s", conf2)
	}
	dev2 := startVPNClient(t, v.cl2, v.cl2If, conf2)
	privateKeys = append(privateKeys, dev2.privateKey)

	t.Log("step: ping and TCP through both tunnels to the LAN")
	ping1, ping2 := newVPNPinger(t, v.cli, vpnE2ELAN), newVPNPinger(t, v.cl2, vpnE2ELAN)
	if !ping1.Reachable(30*time.Second) || !ping2.Reachable(30*time.Second) {
		t.Fatal("a device cannot ping the LAN host through the tunnel")
	}
	if !newVPNPinger(t, v.cli, vpnE2EServer).Reachable(10 * time.Second) {
		t.Fatal("device 1 cannot ping the server's VPN address")
	}
	mustDialLAN(t, v.cli, "device 1")
	mustDialLAN(t, v.cl2, "device 2")

	t.Log("step: `rocca vpn peer list --json` shows handshake and traffic")
	var seen vpn.Peer
	nsWait(t, 40*time.Second, "peer list to show device 1's handshake and traffic", func() bool {
		for _, p := range v.peers(t, false) {
			if p.ID == p1.ID {
				seen = p
				return p.Online && !p.LastHandshake.IsZero() && p.RxBytes > 0 && p.TxBytes > 0 && strings.HasPrefix(p.Endpoint, "10.200.1.2:")
			}
		}
		return false
	})
	t.Logf("device 1 as listed: online %v, handshake %s, rx %d, tx %d, endpoint %s",
		seen.Online, seen.LastHandshake.Format(time.TimeOnly), seen.RxBytes, seen.TxBytes, seen.Endpoint)

	t.Log("step: `rocca vpn peer revoke` stops device 2's traffic")
	p2 := v.peerNamed(t, bruno, "telefono")
	stop := make(chan struct{})
	flooded := make(chan struct{})
	go func() { defer close(flooded); ping2.Flood(10*time.Millisecond, stop) }()
	nsWait(t, 10*time.Second, "device 2's pings to flow before the revoke", func() bool { return ping2.RepliesSince(ping2.LastSeq()-20) > 10 })
	before := time.Now()
	v.cmd(t, "vpn", "peer", "revoke", fmt.Sprint(p2.ID))
	returned := time.Now()
	if _, err := nsDialTCP(v.cl2, vpnE2ELANPort); err == nil {
		t.Fatal("device 2 still reaches the LAN over TCP after `peer revoke` returned")
	}
	time.Sleep(2 * time.Second) // keep pinging: nothing sent after the revoke may be answered
	close(stop)
	<-flooded
	n, lastReply := ping2.AnsweredAfter(returned)
	if n > 0 {
		t.Fatalf("%d echoes sent after `peer revoke` returned were answered", n)
	}
	t.Logf("revoke: command took %s; last reply to device 2 %s after the command started",
		returned.Sub(before).Round(time.Millisecond), lastReply.Sub(before).Round(time.Millisecond))
	if _, ok := v.serverPeer(p2.PublicKey); ok {
		t.Fatal("the revoked device is still on the server interface")
	}
	dev2.Stop()
	if !ping1.Reachable(10 * time.Second) {
		t.Fatal("device 1 lost its tunnel when device 2 was revoked")
	}

	t.Log("step: SIGTERM, `rocca serve` again: device 1 works again with no change on its side")
	v.in.stop()
	stopped := time.Now()
	if _, err := os.Stat("/var/run/wireguard/" + v.srvIf + ".sock"); err == nil {
		t.Fatal("the UAPI socket is left behind after rocca serve stopped")
	}
	v.start(t)
	restarted := time.Now()
	if !ping1.Reachable(90 * time.Second) {
		t.Fatal("after the restart device 1 cannot reach the LAN")
	}
	t.Logf("device 1 reached the LAN again %s after the server was up again", time.Since(restarted).Round(time.Millisecond))
	mustDialLAN(t, v.cli, "device 1 after the restart")
	if pe, ok := v.serverPeer(p1.PublicKey); !ok || !pe.LastHandshakeTime.After(stopped) {
		t.Fatalf("after the restart the server has device 1: %v, handshake %s; want a handshake after the restart", ok, pe.LastHandshakeTime)
	}
	live := v.peers(t, false)
	if len(live) != 1 || live[0].ID != p1.ID || live[0].PublicKey != p1.PublicKey {
		t.Fatalf("live devices after the restart: %+v; want device 1 alone, same key", live)
	}

	t.Log("step: no client private key in the data dir, the log or a backup")
	archive := filepath.Join(t.TempDir(), "rocca-backup.tar.gz")
	v.cmd(t, "backup", archive)
	files := map[string][]byte{"rocca serve log": []byte(v.in.logs.String())}
	filepath.WalkDir(filepath.Join(v.in.dir, "data"), func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("read %s: %v", path, err)
			}
			files[path] = b
		}
		return nil
	})
	inArchive := untarGz(t, archive)
	if len(inArchive) == 0 {
		t.Fatal("the backup archive holds no files")
	}
	for name, b := range inArchive {
		files["backup:"+name] = b
	}
	var pubInDB, pubInBackup bool
	for name, b := range files {
		// A positive control: the scan must find device 1's public key in the database and the
		// backup, or it proves nothing about the private keys.
		if bytes.Contains(b, []byte(p1.PublicKey)) {
			pubInDB = pubInDB || !strings.HasPrefix(name, "backup:")
			pubInBackup = pubInBackup || strings.HasPrefix(name, "backup:")
		}
		for _, k := range privateKeys {
			raw, err := wgtypes.ParseKey(k)
			if err != nil {
				t.Fatalf("private key from a delivered config: %v", err)
			}
			if bytes.Contains(b, []byte(k)) || bytes.Contains(b, raw[:]) {
				t.Errorf("a client private key is in %s", name)
			}
		}
	}
	if !pubInDB || !pubInBackup {
		t.Fatalf("device 1's public key found in data dir %v, backup %v: the scan reads nothing", pubInDB, pubInBackup)
	}
	t.Logf("scanned %d files (data dir, log, %d in the backup) for %d private keys", len(files), len(inArchive), len(privateKeys))
}

// untarGz returns the regular files of a .tar.gz archive by name.
func untarGz(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("backup archive: %v", err)
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("backup archive: %v", err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("backup archive %s: %v", h.Name, err)
			}
			out[h.Name] = b
		}
	}
}

// TestVPNServePeerChurnKeepsTunnel is acceptance 2 with the built binary: while a device pings a
// LAN host through the server every 10 ms, 200 devices are added and 50 of them revoked through
// the admin socket (what the CLI uses). No echo is lost, and neither the device nor the server
// sees its session restarted: the handshake stays the same and the byte counters only grow.
func TestVPNServePeerChurnKeepsTunnel(t *testing.T) {
	v := newVPNTopology(t)
	v.start(t)
	const anna = "anna@comune.example.it"
	v.addUser(t, anna, "Anna Rossi")
	confFile := filepath.Join(t.TempDir(), "portatile.conf")
	v.cmd(t, "vpn", "peer", "add", "--user", anna, "--name", "portatile", "--out", confFile)
	conf, _ := os.ReadFile(confFile)
	dev := startVPNClient(t, v.cli, v.cliIf, string(conf))
	key := v.peerNamed(t, anna, "portatile").PublicKey
	ping := newVPNPinger(t, v.cli, vpnE2ELAN)
	if !ping.Reachable(30 * time.Second) {
		t.Fatal("the device cannot ping the LAN host")
	}

	// Both sides' view of the session, sampled through the churn: the handshake never changes and
	// the counters never go back (a re-created peer starts again from zero).
	type sample struct {
		cliHS, srvHS           time.Time
		cliRx, cliTx           int64
		srvRx, srvTx           int64
		srvMissing, cliMissing bool
	}
	read := func() sample {
		var s sample
		if d, err := v.wg.Device(dev.iface); err == nil && len(d.Peers) == 1 {
			p := d.Peers[0]
			s.cliHS, s.cliRx, s.cliTx = p.LastHandshakeTime, p.ReceiveBytes, p.TransmitBytes
		} else {
			s.cliMissing = true
		}
		if p, ok := v.serverPeer(key); ok {
			s.srvHS, s.srvRx, s.srvTx = p.LastHandshakeTime, p.ReceiveBytes, p.TransmitBytes
		} else {
			s.srvMissing = true
		}
		return s
	}
	showBefore := dev.show(t)
	first := read()
	if first.cliHS.IsZero() || first.srvHS.IsZero() || first.cliMissing || first.srvMissing {
		t.Fatalf("no session before the churn: %+v", first)
	}
	var samples []sample
	sampleStop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-sampleStop:
				return
			case <-tick.C:
				samples = append(samples, read())
			}
		}
	}()

	floodStop := make(chan struct{})
	type floodResult struct{ first, last uint16 }
	flooded := make(chan floodResult, 1)
	go func() {
		f, l := ping.Flood(10*time.Millisecond, floodStop)
		flooded <- floodResult{f, l}
	}()
	base := ping.LastSeq()
	nsWait(t, 30*time.Second, "50 answered pings before the churn", func() bool { return ping.RepliesSince(base) >= 50 })

	admin := adminapi.NewClient(v.adminSock)
	ctx := context.Background()
	start := time.Now()
	var ids []int64
	revoked := 0
	for i := range 200 {
		var res vpn.PeerAddResponse
		if err := admin.Do(ctx, "POST", "/v1/vpn/peers", vpn.PeerAddRequest{User: anna, Name: fmt.Sprintf("churn-%03d", i)}, &res); err != nil {
			t.Fatalf("add device %d: %v", i, err)
		}
		ids = append(ids, res.Peer.ID)
		if i%4 == 3 { // revoke one device for every four added, while the adds go on
			victim := ids[len(ids)-2]
			if err := admin.Do(ctx, "POST", fmt.Sprintf("/v1/vpn/peers/%d/revoke", victim), nil, nil); err != nil {
				t.Fatalf("revoke device %d: %v", victim, err)
			}
			revoked++
		}
	}
	churn := time.Since(start)
	mid := ping.LastSeq()
	nsWait(t, 30*time.Second, "100 answered pings after the churn", func() bool { return ping.RepliesSince(mid) >= 100 })
	close(floodStop)
	fr := <-flooded
	close(sampleStop)
	<-sampled
	last := read()
	showAfter := dev.show(t)

	sent := int(fr.last-fr.first) + 1
	lost := ping.Lost(fr.first, fr.last)
	t.Logf("200 devices added and %d revoked in %s through the admin socket; pings every 10 ms: %d sent, %d lost, max RTT %s",
		revoked, churn.Round(time.Millisecond), sent, lost, ping.MaxRTT(fr.first, fr.last).Round(time.Millisecond))
	t.Logf("device (wg show dump): handshake %d -> %d, rx %d -> %d, tx %d -> %d; server: handshake %s -> %s, rx %d -> %d, tx %d -> %d; %d samples",
		showBefore.handshake, showAfter.handshake, showBefore.rx, showAfter.rx, showBefore.tx, showAfter.tx,
		first.srvHS.Format(time.TimeOnly), last.srvHS.Format(time.TimeOnly), first.srvRx, last.srvRx, first.srvTx, last.srvTx, len(samples))
	if revoked != 50 {
		t.Fatalf("revoked %d devices, want 50", revoked)
	}
	if lost != 0 {
		t.Errorf("%d of %d pings lost while devices were added and revoked", lost, sent)
	}
	if showAfter.handshake != showBefore.handshake {
		t.Errorf("the device's handshake changed: %d -> %d (wg show dump), want the session kept", showBefore.handshake, showAfter.handshake)
	}
	if showAfter.rx <= showBefore.rx || showAfter.tx <= showBefore.tx {
		t.Errorf("the device's counters did not grow: rx %d -> %d, tx %d -> %d", showBefore.rx, showAfter.rx, showBefore.tx, showAfter.tx)
	}
	prev := first
	for i, s := range append(samples, last) {
		switch {
		case s.srvMissing || s.cliMissing:
			t.Fatalf("sample %d: the session's peer is missing (server %v, device %v)", i, s.srvMissing, s.cliMissing)
		case !s.srvHS.Equal(first.srvHS) || !s.cliHS.Equal(first.cliHS):
			t.Fatalf("sample %d: handshake changed (server %s -> %s, device %s -> %s)", i, first.srvHS, s.srvHS, first.cliHS, s.cliHS)
		case s.srvRx < prev.srvRx || s.srvTx < prev.srvTx || s.cliRx < prev.cliRx || s.cliTx < prev.cliTx:
			t.Fatalf("sample %d: counters went back: server rx/tx %d/%d -> %d/%d, device %d/%d -> %d/%d",
				i, prev.srvRx, prev.srvTx, s.srvRx, s.srvTx, prev.cliRx, prev.cliTx, s.cliRx, s.cliTx)
		}
		prev = s
	}
	if last.srvRx <= first.srvRx || last.srvTx <= first.srvTx {
		t.Errorf("the server's counters for the device did not grow: rx %d -> %d, tx %d -> %d", first.srvRx, last.srvRx, first.srvTx, last.srvTx)
	}
	d, err := v.wg.Device(v.srvIf)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Peers) != 151 {
		t.Errorf("%d peers on the server interface, want 151 (1 + 200 added - 50 revoked)", len(d.Peers))
	}
	if n := len(v.peers(t, false)); n != 151 {
		t.Errorf("peer list shows %d live devices, want 151", n)
	}
}
