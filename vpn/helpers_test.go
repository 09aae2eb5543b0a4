package vpn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/vpn/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// fakeDevice is an in-memory WireGuard interface with the semantics of ConfigureDevice with
// ReplacePeers=false. Tests change it "by hand" with removeByHand and vanish.
type fakeDevice struct {
	mu      sync.Mutex
	peers   map[wgtypes.Key]wgtypes.Peer
	applies [][]wgtypes.PeerConfig
	gone    bool // the interface was deleted: Peers fails with fs.ErrNotExist
	closed  bool
}

func newFakeDevice() *fakeDevice { return &fakeDevice{peers: map[wgtypes.Key]wgtypes.Peer{}} }

func (d *fakeDevice) Peers(ctx context.Context) ([]wgtypes.Peer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gone {
		return nil, fmt.Errorf("read peers: %w", fs.ErrNotExist)
	}
	out := make([]wgtypes.Peer, 0, len(d.peers))
	for _, p := range d.peers {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b wgtypes.Peer) int { return bytes.Compare(a.PublicKey[:], b.PublicKey[:]) })
	return out, nil
}

func (d *fakeDevice) ApplyPeers(ctx context.Context, changes []wgtypes.PeerConfig) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gone {
		return fmt.Errorf("configure: %w", fs.ErrNotExist)
	}
	d.applies = append(d.applies, changes)
	for _, c := range changes {
		if c.Remove {
			delete(d.peers, c.PublicKey)
			continue
		}
		p := d.peers[c.PublicKey]
		p.PublicKey = c.PublicKey
		if c.PresharedKey != nil {
			p.PresharedKey = *c.PresharedKey
		}
		if c.ReplaceAllowedIPs {
			p.AllowedIPs = nil
		}
		p.AllowedIPs = append(p.AllowedIPs, c.AllowedIPs...)
		d.peers[c.PublicKey] = p
	}
	return nil
}

func (d *fakeDevice) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}

func (d *fakeDevice) has(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, _ := wgtypes.ParseKey(key)
	_, ok := d.peers[k]
	return ok
}

func (d *fakeDevice) peer(key string) (wgtypes.Peer, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, _ := wgtypes.ParseKey(key)
	p, ok := d.peers[k]
	return p, ok
}

func (d *fakeDevice) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.peers)
}

func (d *fakeDevice) removeByHand(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, _ := wgtypes.ParseKey(key)
	delete(d.peers, k)
}

// handshake makes the interface report traffic from a device.
func (d *fakeDevice) handshake(key string, at time.Time, rx, tx int64, endpoint string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, _ := wgtypes.ParseKey(key)
	p := d.peers[k]
	p.LastHandshakeTime, p.ReceiveBytes, p.TransmitBytes = at, rx, tx
	p.Endpoint, _ = net.ResolveUDPAddr("udp", endpoint)
	d.peers[k] = p
}

// fakeHost opens fakeDevices: a new, empty one each time (like a recreated interface).
type fakeHost struct {
	mu     sync.Mutex
	dev    *fakeDevice
	opens  int
	keys   []wgtypes.Key
	failOn error
}

func (h *fakeHost) open(ctx context.Context, key wgtypes.Key) (Device, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failOn != nil {
		return nil, h.failOn
	}
	h.opens++
	h.keys = append(h.keys, key)
	h.dev = newFakeDevice()
	return h.dev, nil
}

func (h *fakeHost) device() *fakeDevice {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dev
}

// fakeFirewall keeps the policy it was given and applies set changes to it with the semantics of
// device.UpdateFirewallSets: all or nothing, and an error for a missing set or address.
type fakeFirewall struct {
	mu         sync.Mutex
	policy     device.Policy
	calls      int   // whole installs
	updates    int   // set changes applied
	failUpdate error // UpdateFirewallSets fails with it
	absent     bool  // the table was removed from outside
}

func (f *fakeFirewall) ApplyFirewall(ctx context.Context, p device.Policy) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.policy, f.calls, f.absent = clonePolicy(p), f.calls+1, false
	for i := range f.policy.Sets {
		slices.SortFunc(f.policy.Sets[i].Addrs, netip.Addr.Compare)
		f.policy.Sets[i].Addrs = slices.Compact(f.policy.Sets[i].Addrs)
	}
	return nil
}

func (f *fakeFirewall) UpdateFirewallSets(ctx context.Context, changes []device.SetChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failUpdate != nil {
		return f.failUpdate
	}
	if f.absent {
		return errors.New("no table")
	}
	p := clonePolicy(f.policy)
	for _, c := range changes {
		i := slices.IndexFunc(p.Sets, func(s device.Set) bool { return s.Name == c.Set })
		if i < 0 {
			return fmt.Errorf("no set %s", c.Set)
		}
		for _, a := range c.Delete {
			j := slices.Index(p.Sets[i].Addrs, a)
			if j < 0 {
				return fmt.Errorf("%s is not in set %s", a, c.Set)
			}
			p.Sets[i].Addrs = slices.Delete(p.Sets[i].Addrs, j, j+1)
		}
		p.Sets[i].Addrs = append(p.Sets[i].Addrs, c.Add...)
		slices.SortFunc(p.Sets[i].Addrs, netip.Addr.Compare)
		p.Sets[i].Addrs = slices.Compact(p.Sets[i].Addrs)
	}
	f.policy, f.updates = p, f.updates+1
	return nil
}

func (f *fakeFirewall) FirewallPresent(ctx context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.absent, nil
}

func clonePolicy(p device.Policy) device.Policy {
	out := device.Policy{Rules: slices.Clone(p.Rules)}
	for _, s := range p.Sets {
		out.Sets = append(out.Sets, device.Set{Name: s.Name, Addrs: slices.Clone(s.Addrs)})
	}
	return out
}

// current returns the rules as they filter: a rule's set replaced by its addresses as /32
// sources, rules whose set is empty (they match nothing) left out.
func (f *fakeFirewall) current() []device.Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []device.Rule
	for _, r := range f.policy.Rules {
		if r.SrcSet != "" {
			i := slices.IndexFunc(f.policy.Sets, func(s device.Set) bool { return s.Name == r.SrcSet })
			if i < 0 || len(f.policy.Sets[i].Addrs) == 0 {
				continue
			}
			for _, a := range f.policy.Sets[i].Addrs {
				r.Src = append(r.Src, netip.PrefixFrom(a, 32))
			}
			r.SrcSet = ""
		}
		out = append(out, r)
	}
	return out
}

// state is the installed policy as text, to compare two ways of reaching it.
func (f *fakeFirewall) state() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("%+v", f.policy)
}

// fakeClock is a settable clock whose timers fire when Advance passes their time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	d       time.Duration
	f       func()
	stopped bool
	fired   bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), d: d, f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped && !t.fired
		t.stopped = true
		return was
	}
}

// Advance moves the time forward and fires the timers that are due, in order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.fired && !t.at.After(c.now) {
			t.fired = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// pending returns the deadlines of the timers not yet fired or stopped.
func (c *fakeClock) pending() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, t := range c.timers {
		if !t.stopped && !t.fired {
			out = append(out, t.at)
		}
	}
	return out
}

// fakeMailer keeps queued messages.
type fakeMailer struct {
	mu   sync.Mutex
	sent []sentMail
}

type sentMail struct {
	env mail.Envelope
	raw []byte
}

func (m *fakeMailer) Enqueue(ctx context.Context, env mail.Envelope, raw []byte) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, sentMail{env, raw})
	return int64(len(m.sent)), nil
}

// syncBuffer collects log output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// env is a service over a real SQLite file, real accounts (auth), and fakes at the device seams.
type env struct {
	t       testing.TB
	dir     string
	db      *sqlite.DB
	auth    *auth.Service
	cat     *i18n.Catalog
	clock   *fakeClock
	host    *fakeHost
	fw      *fakeFirewall
	mailer  *fakeMailer
	logs    *syncBuffer
	svc     *Service
	cfg     Config
	anna    *rocca.User
	bruno   *rocca.User
	admin   *rocca.User
	disable *rocca.User
}

func testConfig(dir string) Config {
	return Config{
		Interface: "rocca0", Mode: ModeUserspace, ListenPort: 51820, Subnet: "10.86.0.0/24",
		Endpoint: "vpn.comune.example.it:51820", DNS: []string{"192.168.1.1"}, LAN: []string{"192.168.1.0/24"},
		MTU: 1420, Keepalive: 25, DataDir: dir, PublicURL: "https://rocca.comune.example.it",
		MailFrom: "Rocca <rocca@comune.example.it>", Municipality: "Comune di Esempio",
	}
}

func newEnv(t testing.TB, mutate ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, auth.Migrations(), Migrations()); err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, db: db, cat: cat, clock: &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
		host: &fakeHost{}, fw: &fakeFirewall{}, mailer: &fakeMailer{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.auth, err = auth.NewService(db, cat, logger, e.clock.Now, auth.Options{PasswordParams: auth.PasswordParams{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(email, name string, role rocca.Role) *rocca.User {
		u, err := e.auth.CreateUser(ctx, auth.NewUser{Email: email, Name: name, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e.admin = mk("it@comune.example.it", "Ufficio IT", rocca.RoleAdmin)
	e.anna = mk("anna@comune.example.it", "Anna Rossi", rocca.RoleStaff)
	e.bruno = mk("bruno@comune.example.it", "Bruno Bianchi", rocca.RoleStaff)
	e.disable = mk("carla@comune.example.it", "Carla Verdi", rocca.RoleStaff)
	if err := e.auth.DisableUser(ctx, e.disable.Email); err != nil {
		t.Fatal(err)
	}
	e.cfg = testConfig(dir)
	for _, m := range mutate {
		m(&e.cfg)
	}
	e.svc = e.service(t)
	return e
}

// service builds a Service over the env's database and key files, as after a restart.
func (e *env) service(t testing.TB) *Service {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := New(e.cfg, Deps{DB: e.db, Users: e.auth, Audit: e.auth, Mailer: e.mailer, Catalog: e.cat,
		Logger: logger, Clock: e.clock, Open: e.host.open, Firewall: e.fw})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// ctx is a context with u signed in (nil: nobody).
func userCtx(u *rocca.User) context.Context {
	ctx := context.Background()
	if u != nil {
		ctx = rocca.NewContextWithUser(ctx, u)
	}
	return ctx
}

// start opens the fake interface with one reconcile pass.
func (e *env) start() *fakeDevice {
	e.t.Helper()
	e.svc.Reconcile(context.Background())
	d := e.host.device()
	if d == nil {
		e.t.Fatal("reconcile opened no interface")
	}
	return d
}

func (e *env) add(owner *rocca.User, name string) *Delivery {
	e.t.Helper()
	d, err := e.svc.AddPeer(userCtx(e.admin), NewPeer{User: owner.Email, Name: name})
	if err != nil {
		e.t.Fatalf("AddPeer(%s, %s): %v", owner.Email, name, err)
	}
	return d
}

// wantCode checks that err is a rocca.Error with the code and catalog key.
func wantCode(t *testing.T, err error, code rocca.ErrorCode, key string) {
	t.Helper()
	var e *rocca.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want a rocca.Error %s %s", err, code, key)
	}
	if e.Code != code || e.Key != key {
		t.Fatalf("error = %s %s (%v), want %s %s", e.Code, e.Key, err, code, key)
	}
}

// countRows counts the rows of a table.
func (e *env) countRows(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// auditActions lists the actions of the audit log, oldest first.
func (e *env) auditActions() []string {
	e.t.Helper()
	rows, err := e.db.Query(`SELECT action FROM audit_log ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		rows.Scan(&a)
		out = append(out, a)
	}
	return out
}

func itoa(n int64) string { return fmt.Sprint(n) }

func formatRule(r device.Rule) string {
	return fmt.Sprintf("%v %s %s %d", r.Src, r.Dst, r.Proto, r.Port)
}
