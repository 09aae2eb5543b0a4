package vpn

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
	"github.com/rocca-pa/rocca/vpn/device"
)

// The end-to-end test runs the whole VPN part (Service with SystemDevice, its pages, a real SQLite
// database and real accounts) in a "server" network namespace by re-executing the test binary
// there as TestHelperVPNServer: wireguard-go's TUN and UDP sockets are made by goroutines on any
// thread, so only a whole process in the namespace puts them there reliably. The test sends one
// JSON request per line on stdin; each answer is one stdout line prefixed with e2ePrefix.

const (
	e2eHelperEnv = "ROCCA_VPN_E2E_HELPER"
	e2ePrefix    = "RVPN-RESP "
	e2eHTTP      = "127.0.0.1:18080" // the web server, on the server namespace's own loopback
)

type e2eReq struct {
	Op        string    `json:"op"`
	Dir       string    `json:"dir,omitempty"`
	Iface     string    `json:"iface,omitempty"`
	Mode      string    `json:"mode,omitempty"`    // start: the [vpn] mode, userspace when empty
	NoWait    bool      `json:"no_wait,omitempty"` // start: return without waiting for the interface
	Endpoint  string    `json:"endpoint,omitempty"`
	LAN       string    `json:"lan,omitempty"`
	User      string    `json:"user,omitempty"`
	Name      string    `json:"name,omitempty"`
	Expires   string    `json:"expires,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Link      bool      `json:"link,omitempty"`
	ID        int64     `json:"id,omitempty"`
	Dst       string    `json:"dst,omitempty"`
	Port      string    `json:"port,omitempty"`
}

type e2eResp struct {
	OK     bool    `json:"ok"`
	Err    string  `json:"err,omitempty"`
	Config string  `json:"config,omitempty"`
	ID     int64   `json:"id,omitempty"`
	Link   string  `json:"link,omitempty"`
	Key    string  `json:"key,omitempty"`
	Peers  []*Peer `json:"peers,omitempty"`
	Status *Status `json:"status,omitempty"`
	State  string  `json:"state,omitempty"` // device.FirewallState
}

// TestHelperVPNServer is not a test: it is the server process of TestEndToEnd.
func TestHelperVPNServer(t *testing.T) {
	if os.Getenv(e2eHelperEnv) != "1" {
		t.Skip("helper process of TestEndToEnd; it does something only when that test starts it")
	}
	h := &e2eServer{logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	defer h.stop()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var req e2eReq
		var resp e2eResp
		err := json.Unmarshal(sc.Bytes(), &req)
		if err == nil {
			resp, err = h.handle(req)
		}
		if err != nil {
			resp = e2eResp{Err: err.Error()}
		} else {
			resp.OK = true
		}
		b, _ := json.Marshal(resp)
		fmt.Printf("%s%s\n", e2ePrefix, b)
	}
}

type e2eServer struct {
	logger *slog.Logger
	db     *sqlite.DB
	auth   *auth.Service
	svc    *Service
	cancel context.CancelFunc
	done   chan struct{}
	http   *http.Server
}

// ctx is the context of an administrator's request.
func (h *e2eServer) ctx() context.Context {
	return rocca.NewContextWithUser(context.Background(), &rocca.User{Email: "e2e", Name: "e2e", Role: rocca.RoleAdmin})
}

func (h *e2eServer) handle(req e2eReq) (e2eResp, error) {
	var resp e2eResp
	switch req.Op {
	case "start":
		return resp, h.start(req)
	case "add":
		if !req.ExpiresAt.IsZero() { // seconds from now: beyond what the CLI's lifetimes express
			d, err := h.svc.AddPeer(h.ctx(), NewPeer{User: req.User, Name: req.Name, ExpiresAt: req.ExpiresAt})
			if err != nil {
				return resp, err
			}
			resp.Config, resp.ID = d.Config, d.Peer.ID
			return resp, nil
		}
		out, err := h.svc.AddPeerCLI(h.ctx(), PeerAddRequest{User: req.User, Name: req.Name, Expires: req.Expires, Link: req.Link})
		if err != nil {
			return resp, err
		}
		resp.Config, resp.ID = out.Config, out.Peer.ID
		if out.Link != nil {
			resp.Link = out.Link.URL
		}
	case "revoke":
		return resp, h.svc.Revoke(h.ctx(), req.ID)
	case "peers":
		peers, err := h.svc.Peers(h.ctx(), PeerFilter{})
		resp.Peers = peers
		return resp, err
	case "status":
		st, err := h.svc.Status(h.ctx())
		resp.Status = st
		return resp, err
	case "group":
		id, err := h.svc.CreateGroup(h.ctx(), req.Name)
		if err != nil {
			return resp, err
		}
		d, err := ParseDestination(req.Dst, req.Port)
		if err == nil {
			err = h.svc.AddDestination(h.ctx(), id, d)
		}
		if err == nil {
			err = h.svc.AddMember(h.ctx(), id, req.User)
		}
		resp.ID = id
		return resp, err
	case "member_add":
		return resp, h.svc.AddMember(h.ctx(), req.ID, req.User)
	case "member_remove":
		u, err := h.auth.UserByEmail(h.ctx(), req.User)
		if err != nil {
			return resp, err
		}
		return resp, h.svc.RemoveMember(h.ctx(), req.ID, u.ID)
	case "firewall_state":
		st, err := device.FirewallState(h.ctx())
		resp.State = st
		return resp, err
	case "firewall_remove": // as `nft flush ruleset` would
		return resp, device.RemoveFirewall(h.ctx())
	case "firewall_rebuild": // what start-up does: the whole table from the database
		h.svc.devMu.Lock()
		h.svc.syncFirewallLocked(h.ctx(), nil, true)
		h.svc.devMu.Unlock()
	default:
		return resp, fmt.Errorf("unknown op %q", req.Op)
	}
	return resp, nil
}

func (h *e2eServer) start(req e2eReq) error {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(req.Dir, "rocca.db"))
	if err != nil {
		return err
	}
	h.db = db
	if err := db.Migrate(ctx, auth.Migrations(), Migrations()); err != nil {
		return err
	}
	cat, err := i18n.New()
	if err != nil {
		return err
	}
	h.auth, err = auth.NewService(db, cat, h.logger, time.Now, auth.Options{PasswordParams: auth.PasswordParams{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		return err
	}
	for _, u := range []auth.NewUser{
		{Email: "anna@comune.example.it", Name: "Anna", Role: rocca.RoleStaff},
		{Email: "bruno@comune.example.it", Name: "Bruno", Role: rocca.RoleStaff},
	} {
		if _, err := h.auth.CreateUser(ctx, u); err != nil && rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
			return err
		}
	}
	mode := req.Mode
	if mode == "" {
		mode = ModeUserspace
	}
	cfg := Config{
		Interface: req.Iface, Mode: mode, ListenPort: 51820, Subnet: "10.86.0.0/24",
		Endpoint: req.Endpoint, LAN: []string{req.LAN}, Keepalive: 25, DataDir: req.Dir,
		PublicURL: "http://" + e2eHTTP, MailFrom: "Rocca <rocca@comune.example.it>", Municipality: "Comune di Prova",
	}
	open, fw, err := SystemDevice(cfg, h.logger)
	if err != nil {
		return err
	}
	h.svc, err = New(cfg, Deps{DB: db, Users: h.auth, Audit: h.auth, Catalog: cat, Logger: h.logger, Open: open, Firewall: fw})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() { defer close(h.done); h.svc.Run(runCtx) }()

	ws, err := web.New(web.Options{Listen: e2eHTTP, PublicURL: "http://" + e2eHTTP}, h.logger, cat, nil)
	if err != nil {
		return err
	}
	ws.Use(h.auth.Middleware)
	h.svc.Routes(ws, auth.Require)
	ln, err := net.Listen("tcp", e2eHTTP)
	if err != nil {
		return err
	}
	h.http = &http.Server{Handler: ws.Handler()}
	go h.http.Serve(ln)
	if req.NoWait {
		return nil
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := h.svc.Status(ctx)
		if err != nil {
			return err
		}
		if st.Up {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the interface did not come up: " + st.Problem)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts down in the order of `rocca serve`: web, the VPN part (closing the interface), the
// database.
func (h *e2eServer) stop() {
	if h.http != nil {
		h.http.Close()
	}
	if h.cancel != nil {
		h.cancel()
		<-h.done
	}
	if h.db != nil {
		h.db.Close()
	}
}
