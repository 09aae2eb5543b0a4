package vpn

import (
	"context"
	"slices"
	"testing"
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
	rules, _ = e.svc.Rules(context.Background())
	last := rules[len(rules)-1]
	if last.Dst.String() != "192.168.1.0/24" || len(last.Src) != 2 {
		t.Errorf("default rule after deleting B: %v", formatRule(last))
	}
}
