package device

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// The end-to-end tests run the server side in its own network namespace by re-executing the test
// binary there as TestHelperServer: a whole process in the namespace is the only reliable way to
// have wireguard-go's TUN and UDP sockets (opened from goroutines on any thread) land in it. The
// test drives it with one JSON request per line on stdin; each answer is one stdout line prefixed
// with helperPrefix.

const (
	helperEnv    = "ROCCA_DEVICE_TEST_HELPER"
	helperPrefix = "RDV-RESP "
)

type helperOpts struct {
	Name      string         `json:"name"`
	Mode      string         `json:"mode"`
	Port      int            `json:"port"`
	Key       string         `json:"key"`
	Addresses []netip.Prefix `json:"addresses"`
}

type helperPeer struct {
	Key        string         `json:"key"`
	Remove     bool           `json:"remove,omitempty"`
	AllowedIPs []netip.Prefix `json:"allowed_ips,omitempty"`
	Handshake  time.Time      `json:"handshake"`
	Rx         int64          `json:"rx,omitempty"`
	Tx         int64          `json:"tx,omitempty"`
}

type helperReq struct {
	Op     string         `json:"op"`
	Opts   helperOpts     `json:"opts"`
	Peers  []helperPeer   `json:"peers,omitempty"`
	Iface  string         `json:"iface,omitempty"`
	Subnet netip.Prefix   `json:"subnet"`
	Rules  []Rule         `json:"rules,omitempty"`
	Sets   []Set          `json:"sets,omitempty"`
	Change []SetChange    `json:"change,omitempty"`
	Masq   bool           `json:"masq,omitempty"`
	Routes []netip.Prefix `json:"routes,omitempty"`
}

type helperResp struct {
	OK       bool          `json:"ok"`
	Err      string        `json:"err,omitempty"`
	Key      string        `json:"key,omitempty"`  // catalog key of a user error
	Code     string        `json:"code,omitempty"` // its rocca code
	Gone     bool          `json:"gone,omitempty"` // the error says the interface does not exist
	Mode     string        `json:"mode,omitempty"`
	Peers    []helperPeer  `json:"peers,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	State    string        `json:"state,omitempty"` // FirewallState
	Present  bool          `json:"present,omitempty"`
}

// TestHelperServer is not a test: it is the server process of the end-to-end tests.
func TestHelperServer(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process of the end-to-end tests; it does something only when they start it")
	}
	h := &helperServer{logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	defer h.close()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var req helperReq
		resp := helperResp{}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp = errResp(err)
		} else {
			resp = h.handle(req)
		}
		b, _ := json.Marshal(resp)
		fmt.Printf("%s%s\n", helperPrefix, b)
	}
}

type helperServer struct {
	logger *slog.Logger
	dev    *Device
}

func (h *helperServer) close() {
	if h.dev != nil {
		h.dev.Close()
	}
}

func (h *helperServer) handle(req helperReq) helperResp {
	ctx := context.Background()
	var err error
	resp := helperResp{}
	switch req.Op {
	case "open", "try_open":
		var d *Device
		var opts Options
		if opts, err = req.Opts.options(); err == nil {
			d, err = Open(ctx, opts, h.logger)
		}
		if err == nil {
			resp.Mode = d.Mode()
			if req.Op == "open" {
				h.dev = d
			} else {
				d.Close()
			}
		}
	case "probe":
		var nl *netlink.Handle
		if nl, err = netlink.NewHandle(); err == nil {
			resp.Mode, err = selectMode(ModeAuto, realHost(nl, h.logger), h.logger)
			nl.Close()
		}
	case "apply_peers":
		var changes []wgtypes.PeerConfig
		if changes, err = peerConfigs(req.Peers); err == nil {
			start := time.Now()
			err = h.dev.ApplyPeers(ctx, changes)
			resp.Duration = time.Since(start)
		}
	case "peers":
		var peers []wgtypes.Peer
		peers, err = h.dev.Peers(ctx)
		for _, p := range peers {
			resp.Peers = append(resp.Peers, helperPeer{Key: p.PublicKey.String(), Handshake: p.LastHandshakeTime,
				Rx: p.ReceiveBytes, Tx: p.TransmitBytes})
		}
	case "firewall":
		err = ApplyFirewall(ctx, req.Iface, req.Subnet, Policy{Sets: req.Sets, Rules: req.Rules}, req.Masq)
	case "update_sets":
		err = UpdateFirewallSets(ctx, req.Change)
	case "firewall_state":
		if resp.State, err = FirewallState(ctx); err == nil {
			resp.Present, err = FirewallPresent(ctx)
		}
	case "remove_firewall":
		err = RemoveFirewall(ctx)
	case "forwarding":
		err = EnableIPv4Forwarding()
	case "routes":
		err = h.dev.SetRoutes(ctx, req.Routes)
	case "close":
		err = h.dev.Close()
		h.dev = nil
	case "destroy":
		err = h.dev.Destroy()
		h.dev = nil
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		return errResp(err)
	}
	resp.OK = true
	return resp
}

func errResp(err error) helperResp {
	r := helperResp{Err: err.Error(), Gone: errors.Is(err, fs.ErrNotExist)}
	var e *rocca.Error
	if errors.As(err, &e) {
		r.Key, r.Code = e.Key, string(e.Code)
	}
	return r
}

func (o helperOpts) options() (Options, error) {
	key, err := wgtypes.ParseKey(o.Key)
	if err != nil {
		return Options{}, err
	}
	return Options{Name: o.Name, Mode: o.Mode, ListenPort: o.Port, PrivateKey: key, Addresses: o.Addresses}, nil
}

func peerConfigs(peers []helperPeer) ([]wgtypes.PeerConfig, error) {
	var out []wgtypes.PeerConfig
	for _, p := range peers {
		key, err := wgtypes.ParseKey(p.Key)
		if err != nil {
			return nil, err
		}
		pc := wgtypes.PeerConfig{PublicKey: key, Remove: p.Remove}
		if !p.Remove {
			pc.ReplaceAllowedIPs = true
			for _, a := range p.AllowedIPs {
				pc.AllowedIPs = append(pc.AllowedIPs, *ipNet(a))
			}
		}
		out = append(out, pc)
	}
	return out, nil
}

// helperProc is the test's handle on a running TestHelperServer.
type helperProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	in    io.WriteCloser
	resps chan helperResp
}

// startHelper starts TestHelperServer inside namespace ns, with wrap (e.g. setpriv and its flags)
// between `ip netns exec ns` and the test binary.
func startHelper(t *testing.T, ns string, wrap ...string) *helperProc {
	t.Helper()
	exe, err := os.Executable() // not /proc/self/exe: that would be ip itself once ip execs it
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"netns", "exec", ns}, wrap...), exe, "-test.run=^TestHelperServer$", "-test.count=1")
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	// No Pdeathsig: it fires when the forking OS thread ends, and inNetns ends threads on purpose.
	// The helper exits by itself when its stdin closes, which includes this process dying.
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	h := &helperProc{t: t, cmd: cmd, in: in, resps: make(chan helperResp)}
	go func() {
		defer close(h.resps)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), helperPrefix)
			if !ok {
				continue // the test framework's own output
			}
			var r helperResp
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				r = helperResp{Err: "bad response: " + err.Error()}
			}
			h.resps <- r
		}
	}()
	t.Cleanup(func() {
		in.Close() // the helper closes its device and exits on end of input
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server helper log:\n%s", stderr.String())
		}
	})
	return h
}

// call sends one request and returns the answer.
func (h *helperProc) call(req helperReq) helperResp {
	h.t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.in.Write(append(b, '\n')); err != nil {
		h.t.Fatalf("helper %s: %v", req.Op, err)
	}
	select {
	case r, ok := <-h.resps:
		if !ok {
			h.t.Fatalf("helper exited during %s", req.Op)
		}
		return r
	case <-time.After(60 * time.Second):
		h.t.Fatalf("helper did not answer %s within a minute", req.Op)
	}
	return helperResp{}
}

// must is call that fails the test on an error answer.
func (h *helperProc) must(req helperReq) helperResp {
	h.t.Helper()
	r := h.call(req)
	if !r.OK {
		h.t.Fatalf("helper %s: %s", req.Op, r.Err)
	}
	return r
}
