package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/rocca-pa/rocca/internal/adminapi"
	"github.com/rocca-pa/rocca/vpn"
)

// Inside the namespace: the web server, the metrics and the WireGuard port of rocca serve.
const (
	webAddr     = "127.0.0.1:18080"
	metricsAddr = "127.0.0.1:19090"
	subnet      = "10.86.0.0/16"
	adminEmail  = "it@comune.example.it"
	adminPass   = "Banco-di-prova-2026"
)

// bench is one run: the namespace, the server process, the clients and the figures.
type bench struct {
	o           options
	tag, ns     string
	iface       string
	dir         string
	cmd         *exec.Cmd
	done        chan struct{}
	admin       *adminapi.Client
	web         *http.Client // connections made inside the namespace
	token       string
	wg          *wgctrl.Client
	owners      []string
	mode        string    // the VPN mode rocca serve reported at its last start
	engine      *exec.Cmd // Debian's wireguard-go in external mode, nil when not running
	engineDone  chan struct{}
	nsCreated   bool
	r           results
	startedPeer int // devices created so far, for unique names
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vpnbench: "+format+"\n", args...)
}

func (b *bench) run(ctx context.Context) error {
	b.r.started = time.Now()
	if err := b.setup(ctx); err != nil {
		return err
	}
	b.r.rss0 = b.rss()
	if err := b.users(ctx); err != nil {
		return err
	}
	if err := b.apiPhase(ctx); err != nil {
		return err
	}
	b.r.rssAPI = b.rss()
	if err := b.fill(ctx); err != nil {
		return err
	}
	if err := b.atFullSize(ctx); err != nil {
		return err
	}
	b.r.hwm = procStatus(b.cmd.Process.Pid, "VmHWM")
	if err := b.restartWithLimit(ctx); err != nil {
		return err
	}
	if err := b.externalPhase(ctx); err != nil {
		return err
	}
	b.stopServer() // the wireguard-go-alone figures are read with nothing else running
	b.logf("measuring the embedded wireguard-go alone with 0 and %d peers", b.o.peers)
	var err error
	if b.r.alone0, err = b.measureAlone(ctx, 0); err != nil {
		return err
	}
	if b.r.alone, err = b.measureAlone(ctx, b.o.peers); err != nil {
		return err
	}
	b.r.finished = time.Now()
	return b.write()
}

// setup creates the namespace, writes the configuration and starts rocca serve in it.
func (b *bench) setup(ctx context.Context) error {
	tag := make([]byte, 3)
	rand.Read(tag)
	b.tag = hex.EncodeToString(tag)
	b.ns, b.iface = "rvb-"+b.tag, "rvb"+b.tag
	if err := command("ip", "netns", "add", b.ns); err != nil {
		return err
	}
	b.nsCreated = true
	if err := command("ip", "-n", b.ns, "link", "set", "lo", "up"); err != nil {
		return err
	}
	var err error
	if b.dir, err = os.MkdirTemp("", "vpnbench-"); err != nil {
		return err
	}
	b.admin = adminapi.NewClient(filepath.Join(b.dir, "data", "admin.sock"))
	b.web = nsHTTP(b.ns)
	if b.wg, err = wgctrl.New(); err != nil {
		return err
	}
	if err := b.writeConfig("userspace", 0); err != nil {
		return err
	}
	if err := b.startServer(ctx); err != nil {
		return err
	}
	b.r.mode = b.mode
	return nil
}

// writeConfig writes rocca.toml: the VPN in mode (userspace or external), meetings and helpdesk
// off, and the soft memory limit memLimitMB (0: none, Go's default pacing).
func (b *bench) writeConfig(mode string, memLimitMB int) error {
	cfg := fmt.Sprintf(`[server]
listen = %q
public_url = "http://%s"
data_dir = %q
metrics_listen = %q
memory_limit_mb = %d

[municipality]
name = "Comune di Prova"

[vpn]
enabled = true
mode = %q
interface = %q
listen_port = 51820
subnet = %q
endpoint = "vpn.comune.example.it:51820"
lan = ["192.168.1.0/24"]

[meetings]
enabled = false

[helpdesk]
enabled = false
`, webAddr, webAddr, filepath.Join(b.dir, "data"), metricsAddr, memLimitMB, mode, b.iface, subnet)
	return os.WriteFile(filepath.Join(b.dir, "rocca.toml"), []byte(cfg), 0o600)
}

// startServer starts rocca serve in the namespace and waits until its VPN interface is up.
func (b *bench) startServer(ctx context.Context) error {
	logFile, err := os.OpenFile(filepath.Join(b.dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// ip execs rocca after entering the namespace: the process is rocca serve itself.
	b.cmd = exec.Command("ip", "netns", "exec", b.ns, b.o.rocca, "serve", "--config", filepath.Join(b.dir, "rocca.toml"))
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	if err := b.cmd.Start(); err != nil {
		return fmt.Errorf("start rocca serve: %w", err)
	}
	done := make(chan struct{})
	b.done = done
	go func(cmd *exec.Cmd) { cmd.Wait(); close(done) }(b.cmd)
	b.logf("rocca serve started in namespace %s (interface %s), waiting for the VPN", b.ns, b.iface)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st vpn.Status
		err := b.admin.Do(ctx, "GET", "/v1/vpn/status", nil, &st)
		if err == nil && st.Up {
			b.mode = st.Mode
			break
		}
		select {
		case <-b.done:
			return errors.New("rocca serve exited during start")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the VPN interface is not up after 60 s (status: %+v, %v)", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The memory figures are read from /proc/PID: make sure PID is rocca, not ip.
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", b.cmd.Process.Pid))
	want, _ := filepath.EvalSymlinks(b.o.rocca)
	if want, _ = filepath.Abs(want); exe != want {
		return fmt.Errorf("process %d runs %q, not %s: cannot read its memory", b.cmd.Process.Pid, exe, want)
	}
	return nil
}

// stopServer stops rocca serve as systemd would (SIGTERM), killing it after 30 s.
func (b *bench) stopServer() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		b.logf("rocca serve did not stop within 30 s of SIGTERM; killing it")
		b.cmd.Process.Kill()
		<-b.done
	}
}

// users creates the administrator (who signs in once to make an API token) and the employees who
// own the devices.
func (b *bench) users(ctx context.Context) error {
	req := adminapi.UserAddRequest{Email: adminEmail, Name: "Ufficio IT", Role: "admin", Password: adminPass}
	if err := b.admin.Do(ctx, "POST", "/v1/users", req, nil); err != nil {
		return fmt.Errorf("create the administrator: %w", err)
	}
	for i := range b.o.owners {
		email := fmt.Sprintf("dipendente%03d@comune.example.it", i+1)
		req := adminapi.UserAddRequest{Email: email, Name: fmt.Sprintf("Dipendente %d", i+1), Role: "staff"}
		if err := b.admin.Do(ctx, "POST", "/v1/users", req, nil); err != nil {
			return fmt.Errorf("create %s: %w", email, err)
		}
		b.owners = append(b.owners, email)
	}
	// Sign in as a browser does, then create a token on the tokens page (shown once). The admin
	// routes of /api/vpn need a token with the "admin" scope.
	form, err := b.signIn(ctx)
	if err != nil {
		return err
	}
	code, body, err := form("/admin/tokens", url.Values{"email": {adminEmail}, "name": {"vpnbench"}, "scope": {"admin"}, "days": {"1"}})
	if err != nil || code != http.StatusCreated {
		return fmt.Errorf("create an API token: status %d, %v", code, err)
	}
	if b.token = regexp.MustCompile(`rocca_[A-Za-z0-9_-]+`).FindString(body); b.token == "" {
		return errors.New("no token on the tokens page")
	}
	return nil
}

// signIn signs the administrator in as a browser does (the password is checked with argon2id)
// and returns a function that posts forms in that session.
func (b *bench) signIn(ctx context.Context) (func(path string, v url.Values) (int, string, error), error) {
	jar, _ := cookiejar.New(nil)
	browser := nsHTTP(b.ns)
	browser.Jar = jar
	base := "http://" + webAddr
	form := func(path string, v url.Values) (int, string, error) {
		r, _ := http.NewRequestWithContext(ctx, "POST", base+path, strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", base)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := browser.Do(r)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	if code, _, err := form("/login", url.Values{"email": {adminEmail}, "password": {adminPass}}); err != nil || code != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in: status %d, %v", code, err)
	}
	return form, nil
}

// addAPI creates one device through POST /api/vpn/peers and returns its id and the time taken.
func (b *bench) addAPI(ctx context.Context) (int64, time.Duration, error) {
	i := b.startedPeer
	b.startedPeer++
	in := vpn.PeerAddRequest{User: b.owners[i%len(b.owners)], Name: fmt.Sprintf("dispositivo-%05d", i)}
	var out vpn.PeerAddResponse
	d, err := b.api(ctx, "POST", "/api/vpn/peers", in, http.StatusCreated, &out)
	if err == nil && (out.Peer == nil || !strings.Contains(out.Config, "PrivateKey = ")) {
		err = errors.New("the answer holds no device or no configuration")
	}
	if err != nil {
		return 0, d, fmt.Errorf("device %d through the API: %w", i, err)
	}
	return out.Peer.ID, d, nil
}

// api sends one JSON request with the token and times it, body read included.
func (b *bench) api(ctx context.Context, method, path string, in any, want int, out any) (time.Duration, error) {
	body, _ := json.Marshal(in)
	r, _ := http.NewRequestWithContext(ctx, method, "http://"+webAddr+path, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+b.token)
	r.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := b.web.Do(r)
	if err != nil {
		return 0, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	if resp.StatusCode != want {
		return d, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, firstLine(string(raw)))
	}
	if out != nil {
		return d, json.Unmarshal(raw, out)
	}
	return d, nil
}

// apiPhase creates the first devices through the HTTP JSON API, one after the other.
func (b *bench) apiPhase(ctx context.Context) error {
	b.logf("creating %d devices through the HTTP JSON API", b.o.api)
	start := time.Now()
	for range b.o.api {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, d, err := b.addAPI(ctx)
		if err != nil {
			return err
		}
		b.r.apiAdds = append(b.r.apiAdds, d)
	}
	b.r.apiTotal = time.Since(start)
	return nil
}

// fill brings the interface to -peers devices through the admin socket (what the CLI uses).
func (b *bench) fill(ctx context.Context) error {
	n := b.o.peers - b.o.api
	b.logf("adding %d more devices through the admin socket", n)
	start := time.Now()
	for k := range n {
		if err := ctx.Err(); err != nil {
			return err
		}
		i := b.startedPeer
		b.startedPeer++
		in := vpn.PeerAddRequest{User: b.owners[i%len(b.owners)], Name: fmt.Sprintf("dispositivo-%05d", i)}
		t0 := time.Now()
		if err := b.admin.Do(ctx, "POST", "/v1/vpn/peers", in, nil); err != nil {
			return fmt.Errorf("device %d through the admin socket: %w", i, err)
		}
		b.r.fillAdds = append(b.r.fillAdds, time.Since(t0))
		if (k+1)%1000 == 0 {
			b.logf("  %d devices", b.o.api+k+1)
		}
	}
	b.r.fillTotal = time.Since(start)
	if got := b.devicePeers(); got != b.o.peers {
		return fmt.Errorf("the interface holds %d peers, want %d", got, b.o.peers)
	}
	b.r.rssFull = b.rss()
	// Memory once the adds are over and a few reconcile passes (every 10 s) have run.
	b.logf("%d devices on the interface; idle for 30 s before reading the memory", b.o.peers)
	var err error
	b.r.rssIdle, b.r.idle, err = b.idle(ctx)
	return err
}

// idle waits 30 s and returns the memory then, with the runtime's figures and the garbage
// collections and CPU time of the wait.
func (b *bench) idle(ctx context.Context) (int64, idleFigures, error) {
	before := b.scrapeMetrics()
	// VmRSS once a second: a single reading depends on where the collector is in its cycle.
	var sum, peak int64
	for range 30 {
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return 0, idleFigures{}, ctx.Err()
		}
		rss := b.rss()
		sum, peak = sum+rss, max(peak, rss)
	}
	rss := b.rss()
	pid := b.cmd.Process.Pid
	file, anon := procStatus(pid, "RssFile"), procStatus(pid, "RssAnon")
	after := b.scrapeMetrics()
	return rss, idleFigures{metrics: after, rssMean: sum / 30, rssMax: peak, rssFile: file, rssAnon: anon,
		gcs:   after["go_gc_duration_seconds_count"] - before["go_gc_duration_seconds_count"],
		cpu:   after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"],
		alloc: after["go_memstats_alloc_bytes_total"] - before["go_memstats_alloc_bytes_total"]}, nil
}

// restartWithLimit restarts rocca serve with [server] memory_limit_mb = -memlimit: the interface
// is rebuilt from the database, then the memory is read after 30 s idle.
func (b *bench) restartWithLimit(ctx context.Context) error {
	if b.o.memLimit == 0 {
		return nil
	}
	b.logf("restarting rocca serve with memory_limit_mb = %d", b.o.memLimit)
	b.stopServer()
	if err := b.writeConfig("userspace", b.o.memLimit); err != nil {
		return err
	}
	start := time.Now()
	if err := b.startServer(ctx); err != nil {
		return err
	}
	for b.devicePeers() != b.o.peers {
		if time.Since(start) > 60*time.Second {
			return fmt.Errorf("after the restart the interface holds %d peers, want %d", b.devicePeers(), b.o.peers)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.r.restart = time.Since(start)
	var err error
	b.r.rssLimit, b.r.limitIdle, err = b.idle(ctx)
	return err
}

func (b *bench) devicePeers() int {
	d, err := b.wg.Device(b.iface)
	if err != nil {
		return -1
	}
	return len(d.Peers)
}

// atFullSize times single changes on the full interface: incremental adds, syncconf runs and
// adds/revokes through the API. After each timed change the interface is put back to -peers.
func (b *bench) atFullSize(ctx context.Context) error {
	b.logf("timing %d incremental adds (wgctrl) on %d peers", b.o.adds, b.o.peers)
	for i := range b.o.adds {
		if err := ctx.Err(); err != nil {
			return err
		}
		pc, err := newPeer(netip.AddrFrom4([4]byte{10, 86, 255, byte(1 + i%250)}))
		if err != nil {
			return err
		}
		t0 := time.Now()
		if err := b.wg.ConfigureDevice(b.iface, wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}}); err != nil {
			return fmt.Errorf("incremental add: %w", err)
		}
		b.r.incAdds = append(b.r.incAdds, time.Since(t0))
		if err := b.wg.ConfigureDevice(b.iface, wgtypes.Config{Peers: []wgtypes.PeerConfig{{PublicKey: pc.PublicKey, Remove: true}}}); err != nil {
			return fmt.Errorf("remove the added peer: %w", err)
		}
	}

	b.logf("timing %d `wg syncconf` runs with %d peers", b.o.syncs, b.o.peers+1)
	full, err := exec.Command("wg", "showconf", b.iface).Output()
	if err != nil {
		return fmt.Errorf("wg showconf: %w", err)
	}
	if n := bytes.Count(full, []byte("[Peer]")); n != b.o.peers {
		return fmt.Errorf("wg showconf lists %d peers, want %d", n, b.o.peers)
	}
	file := filepath.Join(b.dir, "syncconf.conf") // holds keys: in our 0700 temp dir, removed at the end
	for i := range b.o.syncs {
		if err := ctx.Err(); err != nil {
			return err
		}
		pc, err := newPeer(netip.AddrFrom4([4]byte{10, 86, 254, byte(1 + i%250)}))
		if err != nil {
			return err
		}
		conf := fmt.Sprintf("%s\n[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = %s\n", full, pc.PublicKey, pc.PresharedKey, &pc.AllowedIPs[0])
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
			return err
		}
		t0 := time.Now()
		if out, err := exec.Command("wg", "syncconf", b.iface, file).CombinedOutput(); err != nil {
			return fmt.Errorf("wg syncconf: %v: %s", err, out)
		}
		b.r.syncs = append(b.r.syncs, time.Since(t0))
		if got := b.devicePeers(); got != b.o.peers+1 {
			return fmt.Errorf("after wg syncconf the interface holds %d peers, want %d", got, b.o.peers+1)
		}
		if err := b.wg.ConfigureDevice(b.iface, wgtypes.Config{Peers: []wgtypes.PeerConfig{{PublicKey: pc.PublicKey, Remove: true}}}); err != nil {
			return fmt.Errorf("remove the synced peer: %w", err)
		}
	}

	b.logf("timing %d adds and revokes through the API on %d devices", b.o.adds, b.o.peers)
	for range b.o.adds {
		if err := ctx.Err(); err != nil {
			return err
		}
		id, d, err := b.addAPI(ctx)
		if err != nil {
			return err
		}
		b.r.fullAdds = append(b.r.fullAdds, d)
		b.r.fullIDs = append(b.r.fullIDs, id)
		d, err = b.api(ctx, "POST", fmt.Sprintf("/api/vpn/peers/%d/revoke", id), struct{}{}, http.StatusOK, nil)
		if err != nil {
			return fmt.Errorf("revoke device %d through the API: %w", id, err)
		}
		b.r.fullRevokes = append(b.r.fullRevokes, d)
	}
	if got := b.devicePeers(); got != b.o.peers {
		return fmt.Errorf("at the end the interface holds %d peers, want %d", got, b.o.peers)
	}
	b.r.rssEnd = b.rss()
	return nil
}

// newPeer is a peer as package vpn puts it on the interface: key, pre-shared key, one address.
func newPeer(addr netip.Addr) (wgtypes.PeerConfig, error) {
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return wgtypes.PeerConfig{}, err
	}
	psk, err := wgtypes.GenerateKey()
	if err != nil {
		return wgtypes.PeerConfig{}, err
	}
	return wgtypes.PeerConfig{PublicKey: k.PublicKey(), PresharedKey: &psk, ReplaceAllowedIPs: true,
		AllowedIPs: []net.IPNet{{IP: addr.AsSlice(), Mask: net.CIDRMask(32, 32)}}}, nil
}

// rss is the resident memory of rocca serve in bytes.
func (b *bench) rss() int64 { return procStatus(b.cmd.Process.Pid, "VmRSS") }

// procStatus reads a "kB" field of /proc/PID/status in bytes (0 if unreadable).
func procStatus(pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// scrapeMetrics reads the Go runtime figures from the server's Prometheus endpoint.
func (b *bench) scrapeMetrics() map[string]float64 {
	out := map[string]float64{}
	resp, err := b.web.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = f
		}
	}
	return out
}

// printLogTail shows the end of the server's log after a failure.
func (b *bench) printLogTail(n int) {
	if b.dir == "" {
		return
	}
	raw, err := os.ReadFile(filepath.Join(b.dir, "serve.log"))
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	fmt.Fprintf(os.Stderr, "vpnbench: last lines of the rocca serve log:\n%s\n", strings.Join(lines[max(0, len(lines)-n):], "\n"))
}

// cleanup stops rocca serve and removes the namespace and the files, whatever state the run is in.
func (b *bench) cleanup() {
	if b.wg != nil {
		b.wg.Close()
	}
	b.stopServer()
	b.stopEngine()
	if b.nsCreated {
		if err := command("ip", "netns", "del", b.ns); err != nil {
			b.logf("%v", err)
		}
	}
	if b.iface != "" {
		os.Remove("/var/run/wireguard/" + b.iface + ".sock") // only if rocca could not remove it
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

func command(args ...string) error {
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// nsHTTP is an HTTP client whose connections are made inside namespace ns (one kept alive).
func nsHTTP(ns string) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := inNetns(ns, func() (err error) { c, err = (&net.Dialer{}).DialContext(ctx, network, addr); return err })
			return c, err
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// inNetns runs fn on a locked OS thread that has entered namespace ns and ends with it. Sockets fn
// creates stay in ns wherever they are used later.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
