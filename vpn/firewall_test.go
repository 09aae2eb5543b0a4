package vpn

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRulesFollowGroups: members of group A get rules toward A's destinations only; users in no
// group get the preset's destinations; every device may use the DNS servers; no other rule has
// an empty source (which would mean "any device").
func TestRulesFollowGroups(t *testing.T) {
	e := newEnv(t)
	e.start()
	ctx := userCtx(e.admin)
	anna := e.add(e.anna, "portatile")
	anna2 := e.add(e.anna, "telefono")
	bruno := e.add(e.bruno, "portatile")
	admin := e.add(e.admin, "portatile")
	a, _ := e.svc.CreateGroup(ctx, "A")
	b, _ := e.svc.CreateGroup(ctx, "B")
	empty, _ := e.svc.CreateGroup(ctx, "vuoto")
	for _, x := range []struct {
		g          int64
		net, proto string
	}{{a, "192.168.1.10", "tcp/443"}, {a, "192.168.1.11", ""}, {b, "192.168.2.0/24", "udp/161"}, {empty, "10.0.0.1", ""}} {
		d, err := ParseDestination(x.net, x.proto)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.AddDestination(ctx, x.g, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.AddMember(ctx, a, e.anna.Email); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddMember(ctx, b, e.bruno.Email); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range e.fw.current() {
		got = append(got, formatRule(r))
	}
	annas := "[" + anna.Peer.Address.String() + "/32 " + anna2.Peer.Address.String() + "/32]"
	want := []string{
		"[] 192.168.1.1/32  53",
		annas + " 192.168.1.10/32 tcp 443",
		annas + " 192.168.1.11/32  0",
		"[" + bruno.Peer.Address.String() + "/32] 192.168.2.0/24 udp 161",
		"[" + admin.Peer.Address.String() + "/32] 192.168.1.0/24  0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules:\n%q\nwant\n%q", got, want)
	}
	// Revoking and re-adding devices changes the sources at once.
	if err := e.svc.Revoke(ctx, anna2.Peer.ID); err != nil {
		t.Fatal(err)
	}
	rules := e.fw.current()
	if len(rules[1].Src) != 1 || rules[1].Src[0].Addr() != anna.Peer.Address {
		t.Errorf("after revoke the group's sources are %v", rules[1].Src)
	}
	// Deleting a group gives its members the default access.
	if err := e.svc.DeleteGroup(ctx, b); err != nil {
		t.Fatal(err)
	}
	rules = e.fw.current()
	last := rules[len(rules)-1]
	if last.Dst.String() != "192.168.1.0/24" || len(last.Src) != 2 {
		t.Errorf("default rule after deleting B: %v", formatRule(last))
	}
}

// inSets lists the sets holding address a in the installed policy.
func (f *fakeFirewall) inSets(a netip.Addr) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.policy.Sets {
		if slices.Contains(s.Addrs, a) {
			out = append(out, s.Name)
		}
	}
	return out
}

// rebuild installs the whole firewall from the database, as at start.
func (e *env) rebuild() {
	e.svc.devMu.Lock()
	defer e.svc.devMu.Unlock()
	e.svc.syncFirewallLocked(context.Background(), nil, true)
}

// TestFirewallIncremental: adding, revoking, expiring and rekeying devices and moving users
// between groups change only set elements, never the whole table, and leave exactly what a
// whole install of the same state leaves; a change of destinations installs the whole table.
func TestFirewallIncremental(t *testing.T) {
	e := newEnv(t)
	e.start()
	ctx := userCtx(e.admin)
	g, err := e.svc.CreateGroup(ctx, "Anagrafe")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := ParseDestination("192.168.1.10", "tcp/443")
	if err := e.svc.AddDestination(ctx, g, d); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddMember(ctx, g, e.anna.Email); err != nil {
		t.Fatal(err)
	}
	installs := e.fw.calls
	anna := e.add(e.anna, "portatile")
	bruno := e.add(e.bruno, "portatile")
	if got := e.fw.inSets(anna.Peer.Address); !slices.Equal(got, []string{groupSet(g)}) {
		t.Errorf("anna's device is in %v, want only her group's set", got)
	}
	if got := e.fw.inSets(bruno.Peer.Address); !slices.Equal(got, []string{defaultSet}) {
		t.Errorf("bruno's device is in %v, want only the default set", got)
	}
	check := func(what string, wantInstalls int) {
		t.Helper()
		if e.fw.calls != wantInstalls {
			t.Fatalf("%s: %d whole installs, want %d", what, e.fw.calls, wantInstalls)
		}
		incremental := e.fw.state()
		e.rebuild()
		if rebuilt := e.fw.state(); rebuilt != incremental {
			t.Fatalf("%s: the firewall after the change is\n%s\na whole install of the same state is\n%s", what, incremental, rebuilt)
		}
	}
	check("two devices added", installs)

	before := e.fw.state()
	extra := e.add(e.bruno, "telefono")
	if err := e.svc.Revoke(ctx, extra.Peer.ID); err != nil {
		t.Fatal(err)
	}
	if after := e.fw.state(); after != before {
		t.Errorf("add then revoke left\n%s\nwant\n%s", after, before)
	}
	check("a device added and revoked", installs+1)

	if err := e.svc.AddMember(ctx, g, e.bruno.Email); err != nil {
		t.Fatal(err)
	}
	if got := e.fw.inSets(bruno.Peer.Address); !slices.Equal(got, []string{groupSet(g)}) {
		t.Errorf("after joining the group bruno's device is in %v", got)
	}
	check("a user joined a group", installs+2)
	if err := e.svc.RemoveMember(ctx, g, e.bruno.ID); err != nil {
		t.Fatal(err)
	}
	check("a user left a group", installs+3)

	updates := e.fw.updates
	if _, err := e.svc.Rekey(ctx, anna.Peer.ID); err != nil {
		t.Fatal(err)
	}
	if e.fw.updates != updates {
		t.Error("a rekey (same address) changed the firewall")
	}

	temp, err := e.svc.AddPeer(ctx, NewPeer{User: e.bruno.Email, Name: "temporaneo", ExpiresAt: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.svc.expireDue(context.Background())
	if got := e.fw.inSets(temp.Peer.Address); len(got) != 0 {
		t.Errorf("expired device still in %v", got)
	}
	check("a device expired", installs+4)

	if err := e.auth.DisableUser(context.Background(), e.bruno.Email); err != nil {
		t.Fatal(err)
	}
	e.svc.Reconcile(context.Background())
	if got := e.fw.inSets(bruno.Peer.Address); len(got) != 0 {
		t.Errorf("device of a disabled user still in %v", got)
	}
	check("a user disabled", installs+5)

	d2, _ := ParseDestination("192.168.1.11", "")
	if err := e.svc.AddDestination(ctx, g, d2); err != nil {
		t.Fatal(err)
	}
	if e.fw.calls != installs+7 { // each check above installed once more
		t.Errorf("a new destination: %d whole installs, want %d", e.fw.calls, installs+7)
	}
}

// TestFirewallFallsBackToWholeInstall: when the sets cannot be changed (the table was changed
// from outside) the whole table is installed; a table removed from outside comes back with the
// next reconcile pass.
func TestFirewallFallsBackToWholeInstall(t *testing.T) {
	e := newEnv(t)
	e.start()
	installs := e.fw.calls
	e.fw.mu.Lock()
	e.fw.failUpdate = errors.New("set changed by hand")
	e.fw.mu.Unlock()
	a := e.add(e.anna, "portatile")
	if e.fw.calls != installs+1 || !slices.Equal(e.fw.inSets(a.Peer.Address), []string{defaultSet}) {
		t.Errorf("after a failed set change: %d installs (want %d), device in %v", e.fw.calls, installs+1, e.fw.inSets(a.Peer.Address))
	}
	if !strings.Contains(e.logs.String(), "installing the whole table again") {
		t.Error("the fallback is not logged")
	}
	e.fw.mu.Lock()
	e.fw.failUpdate, e.fw.absent = nil, true
	e.fw.mu.Unlock()
	e.svc.Reconcile(context.Background())
	if e.fw.calls != installs+2 || e.fw.absent {
		t.Errorf("table removed from outside: %d installs after reconcile, want %d", e.fw.calls, installs+2)
	}
	e.svc.Reconcile(context.Background())
	if e.fw.calls != installs+2 {
		t.Error("a reconcile pass with nothing changed installed the table again")
	}
}
