package vpn

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

// readyMux records what Routes registers: the handlers and the readiness checks.
type readyMux struct {
	http.ServeMux
	checks map[string]func(context.Context) error
}

func (m *readyMux) AddReadyCheck(name string, check func(context.Context) error) {
	m.checks[name] = check
}

func passThrough(rocca.Role) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler { return h }
}

// TestExternalInterfaceComesAndGoes: in external mode the interface belongs to another program.
// While it is missing, the status, the readiness check and the log say why; once it is there,
// one reconcile pass puts the devices and the firewall on it; when it goes away again (its
// program stopped) the same happens once more.
func TestExternalInterfaceComesAndGoes(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Mode = ModeExternal })
	missing := rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.external_missing", `The VPN interface "rocca0" does not exist`, "rocca0")
	e.host.failOn = missing
	mux := &readyMux{checks: map[string]func(context.Context) error{}}
	e.svc.Routes(mux, passThrough)
	ready := mux.checks["vpn"]
	if ready == nil {
		t.Fatal("Routes registered no readiness check named vpn")
	}
	ctx := context.Background()
	if err := ready(ctx); err == nil {
		t.Error("ready before the first reconcile pass")
	}

	e.svc.Reconcile(ctx)
	var re *rocca.Error
	if err := ready(ctx); !errors.As(err, &re) || re.Key != "vpn.device.external_missing" {
		t.Errorf("ready with the interface missing: %v, want the reason", err)
	}
	st, err := e.svc.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Up || st.ProblemKey != "vpn.device.external_missing" {
		t.Errorf("status with the interface missing: up %v, problem key %q", st.Up, st.ProblemKey)
	}
	if !strings.Contains(e.logs.String(), "vpn interface unavailable") {
		t.Errorf("the log does not say the interface is unavailable:\n%s", e.logs.String())
	}
	a := e.add(e.anna, "portatile") // the database takes devices while the interface is missing

	e.host.failOn = nil
	installs := e.fw.calls
	dev := e.start()
	if !dev.has(a.Peer.PublicKey) || e.fw.calls != installs+1 {
		t.Fatalf("once the interface is there: device on it %v, firewall installs %d more; want the device and one install", dev.has(a.Peer.PublicKey), e.fw.calls-installs)
	}
	if err := ready(ctx); err != nil {
		t.Errorf("ready with the interface configured: %v", err)
	}
	if st, _ := e.svc.Status(ctx); !st.Up || st.Mode != "" && st.Mode != ModeExternal {
		t.Errorf("status with the interface configured: up %v, mode %q", st.Up, st.Mode)
	}

	dev.mu.Lock()
	dev.gone = true // its program stopped
	dev.mu.Unlock()
	e.host.failOn = missing
	e.svc.Reconcile(ctx)
	if !dev.closed || ready(ctx) == nil {
		t.Errorf("after the interface went away: old device closed %v, ready %v; want closed and not ready", dev.closed, ready(ctx))
	}
	if !strings.Contains(e.logs.String(), "created again by the program that owns it") {
		t.Errorf("the log does not say the program's interface went away:\n%s", e.logs.String())
	}
	e.host.failOn = nil
	installs = e.fw.calls
	e.svc.Reconcile(ctx)
	if d := e.host.device(); d == dev || !d.has(a.Peer.PublicKey) || e.fw.calls != installs+1 {
		t.Errorf("when the interface is back: new device %v, device on it %v, firewall installs %d more; want all applied again",
			d != dev, d.has(a.Peer.PublicKey), e.fw.calls-installs)
	}
	if err := ready(ctx); err != nil {
		t.Errorf("ready with the interface back: %v", err)
	}
}

// TestReadyWithoutDevice: a service that drives no interface (the CLI offline, tests) registers
// no readiness check and is always ready.
func TestReadyWithoutDevice(t *testing.T) {
	e := newEnv(t)
	e.svc.open = nil
	mux := &readyMux{checks: map[string]func(context.Context) error{}}
	e.svc.Routes(mux, passThrough)
	if len(mux.checks) != 0 {
		t.Errorf("checks registered without an interface: %v", mux.checks)
	}
	if err := e.svc.Ready(context.Background()); err != nil {
		t.Errorf("Ready without an interface: %v", err)
	}
}

func TestConfigAcceptsExternalMode(t *testing.T) {
	c := testConfig(t.TempDir())
	c.Mode = ModeExternal
	if err := c.Validate(); err != nil {
		t.Errorf("external mode rejected: %v", err)
	}
}
