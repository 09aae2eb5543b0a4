package vpn

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca/vpn/device"
)

// The firewall keeps a fixed structure and changes only its sets when devices come and go:
//   - every device may reach the configured DNS servers on port 53;
//   - devices of users in one or more groups reach only their groups' destinations: the rules of
//     a group match the named set "group<id>" that holds its members' device addresses;
//   - devices of users in no group reach what the preset routes (the LAN ranges of "rete
//     comunale", the custom ranges, or everything with "tutto il traffico"): those rules match
//     the set "default".
//
// Traffic between devices and anything else is dropped by the firewall itself. Devices are named
// by their VPN address: WireGuard lets a device send only from its own address.
//
// The rules change only with the settings and the groups' destinations, and then the table is
// rebuilt as a whole. Adding, revoking or expiring a device, or moving a user between groups, only
// adds and deletes set elements in one transaction, so its cost does not grow with the number of
// devices.

// defaultSet holds the devices of users in no group.
const defaultSet = "default"

// groupSet is the set holding the devices of the members of group id.
func groupSet(id int64) string { return "group" + strconv.FormatInt(id, 10) }

// plan is the structure of the firewall as the groups and the settings define it.
type plan struct {
	policy  device.Policy      // the rules, and the sets without their addresses
	sig     string             // identifies the structure: equal signatures, equal rules
	grouped map[int64][]string // the sets of every user in a group (none: groups without destinations)
	ungroup []string           // the sets of everyone else: just defaultSet, shared
}

// setsOf returns the sets the devices of user uid belong in. The slice is shared: do not change it.
func (pl *plan) setsOf(uid int64) []string {
	if sets, ok := pl.grouped[uid]; ok {
		return sets
	}
	return pl.ungroup
}

// plan reads the groups and the settings.
func (s *Service) plan(ctx context.Context) (*plan, error) {
	groups, err := loadGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	set, err := loadSettings(ctx, s.db)
	if err != nil {
		return nil, err
	}
	pl := &plan{grouped: map[int64][]string{}, ungroup: []string{defaultSet}}
	p := &pl.policy
	for _, d := range s.net.dns {
		if d.Is4() {
			p.Rules = append(p.Rules, device.Rule{Dst: netip.PrefixFrom(d, 32), Port: 53})
		}
	}
	for _, g := range groups {
		name := groupSet(g.ID)
		for _, uid := range g.Members {
			sets := pl.grouped[uid]
			if len(g.Destinations) > 0 {
				sets = append(sets, name)
			}
			pl.grouped[uid] = sets
		}
		if len(g.Destinations) == 0 {
			continue // its members reach nothing through it; no set needed
		}
		p.Sets = append(p.Sets, device.Set{Name: name})
		for _, d := range g.Destinations {
			p.Rules = append(p.Rules, device.Rule{SrcSet: name, Dst: d.Prefix.Masked(), Proto: d.Proto, Port: d.Port})
		}
	}
	p.Sets = append(p.Sets, device.Set{Name: defaultSet})
	for _, dst := range s.presetDestinations(set) {
		p.Rules = append(p.Rules, device.Rule{SrcSet: defaultSet, Dst: dst})
	}
	var b strings.Builder
	for _, st := range p.Sets {
		fmt.Fprintf(&b, "@%s;", st.Name)
	}
	for _, r := range p.Rules {
		fmt.Fprintf(&b, "%v@%s>%s/%s/%d;", r.Src, r.SrcSet, r.Dst, r.Proto, r.Port)
	}
	pl.sig = b.String()
	return pl, nil
}

// presetDestinations is what devices of users in no group may reach: what their tunnel routes,
// without the VPN itself (devices never reach each other).
func (s *Service) presetDestinations(set Settings) []netip.Prefix {
	switch set.Preset {
	case PresetAll:
		return []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	case PresetCustom:
		return dedupe(set.CustomRanges)
	}
	return dedupe(s.net.lan)
}

// syncFirewallLocked makes the firewall match the database: the whole table when force is set
// (a reopened interface, a table removed from outside), when nothing is installed yet or when the
// structure changed; otherwise only the set elements that differ. want holds the live devices
// (nil: read them). The caller holds devMu.
func (s *Service) syncFirewallLocked(ctx context.Context, want *liveSet, force bool) {
	if s.firewall == nil {
		return
	}
	pl, err := s.plan(ctx)
	if err == nil && want == nil {
		want, err = s.desired(ctx)
	}
	if err != nil {
		s.logger.Error("compute vpn firewall rules", "err", err)
		return
	}
	if force || pl.sig != s.fwSig {
		members := make(map[netip.Addr][]string, len(want.list))
		for i := range want.list {
			w := &want.list[i]
			if sets := pl.setsOf(w.peer.OwnerID); len(sets) > 0 {
				members[w.peer.Address] = sets
			}
		}
		s.installFirewallLocked(ctx, pl, members)
		return
	}
	// The usual pass: compare in place and hand over only the addresses that differ, so that a
	// pass over thousands of unchanged devices builds nothing.
	members := map[netip.Addr][]string{}
	var scope []netip.Addr
	installed := 0 // addresses of live devices found in fwSets
	for i := range want.list {
		w := &want.list[i]
		sets := pl.setsOf(w.peer.OwnerID)
		have, ok := s.fwSets[w.peer.Address]
		if ok {
			installed++
		}
		if slices.Equal(have, sets) {
			continue
		}
		scope = append(scope, w.peer.Address)
		if len(sets) > 0 {
			members[w.peer.Address] = sets
		}
	}
	if installed < len(s.fwSets) { // some installed addresses belong to no live device any more
		live := make(map[netip.Addr]bool, len(want.list))
		for i := range want.list {
			live[want.list[i].peer.Address] = true
		}
		for a := range s.fwSets {
			if !live[a] {
				scope = append(scope, a)
			}
		}
	}
	if len(scope) > 0 {
		s.updateFirewallLocked(ctx, members, scope)
	}
}

// refreshFirewallLocked puts the devices at addrs into the sets the database says (none once
// revoked or expired), reading only those devices: what adding, revoking, expiring or rekeying a
// device costs. The caller holds devMu.
func (s *Service) refreshFirewallLocked(ctx context.Context, addrs ...netip.Addr) {
	if s.firewall == nil {
		return
	}
	pl, err := s.plan(ctx)
	if err != nil {
		s.logger.Error("compute vpn firewall rules", "err", err)
		return
	}
	if pl.sig != s.fwSig { // nothing installed yet, or the structure changed meanwhile
		s.syncFirewallLocked(ctx, nil, false)
		return
	}
	members := make(map[netip.Addr][]string, len(addrs))
	for _, a := range addrs {
		sets, err := s.setsAt(ctx, pl, a)
		if err != nil {
			s.logger.Error("vpn firewall: read device; the reconcile loop will retry", "address", a.String(), "err", err)
			s.poke()
			return
		}
		if len(sets) > 0 {
			members[a] = sets
		}
	}
	s.updateFirewallLocked(ctx, members, addrs)
}

// setsAt returns the sets of the live device at address a, none when there is no such device or
// its owner is disabled.
func (s *Service) setsAt(ctx context.Context, pl *plan, a netip.Addr) ([]string, error) {
	now := s.clock.Now()
	p, err := livePeerAt(ctx, s.db, a, now)
	if err != nil || p == nil || !p.live(now) {
		return nil, err
	}
	u, err := s.users.UserByID(ctx, p.OwnerID)
	if err != nil {
		return nil, fmt.Errorf("owner of device %d: %w", p.ID, err)
	}
	if u.Disabled {
		return nil, nil
	}
	return pl.setsOf(p.OwnerID), nil
}

// installFirewallLocked replaces the whole table.
func (s *Service) installFirewallLocked(ctx context.Context, pl *plan, members map[netip.Addr][]string) {
	p := device.Policy{Rules: pl.policy.Rules}
	for _, st := range pl.policy.Sets {
		p.Sets = append(p.Sets, device.Set{Name: st.Name})
	}
	index := make(map[string]int, len(p.Sets))
	for i, st := range p.Sets {
		index[st.Name] = i
	}
	for a, sets := range members {
		for _, name := range sets {
			p.Sets[index[name]].Addrs = append(p.Sets[index[name]].Addrs, a)
		}
	}
	for i := range p.Sets {
		slices.SortFunc(p.Sets[i].Addrs, netip.Addr.Compare)
	}
	if err := s.firewall.ApplyFirewall(ctx, p); err != nil {
		s.logger.Error("install vpn firewall rules; the reconcile loop will retry", "err", err)
		s.fwSig, s.fwSets = "", nil
		return
	}
	s.fwSig, s.fwSets = pl.sig, members
	s.logger.Info("vpn firewall rules installed", "rules", len(p.Rules), "sets", len(p.Sets), "devices", len(members))
}

// updateFirewallLocked changes the set elements of the addresses in scope to members (an address
// of scope missing from members leaves every set), in one transaction. If that fails (the table
// was changed from outside) it installs the whole table instead.
func (s *Service) updateFirewallLocked(ctx context.Context, members map[netip.Addr][]string, scope []netip.Addr) {
	slices.SortFunc(scope, netip.Addr.Compare)
	scope = slices.Compact(scope)
	changes := diffSets(s.fwSets, members, scope)
	if len(changes) == 0 {
		return
	}
	if err := s.firewall.UpdateFirewallSets(ctx, changes); err != nil {
		s.logger.Warn("vpn firewall sets not updated; installing the whole table again", "err", err)
		s.syncFirewallLocked(ctx, nil, true)
		return
	}
	for _, a := range scope {
		if sets := members[a]; len(sets) > 0 {
			s.fwSets[a] = sets
		} else {
			delete(s.fwSets, a)
		}
	}
	s.logger.Debug("vpn firewall sets updated", "changes", len(changes))
}

// diffSets returns, set by set, the addresses of scope to add and to delete to go from the sets
// in have to those in want.
func diffSets(have, want map[netip.Addr][]string, scope []netip.Addr) []device.SetChange {
	bySet := map[string]*device.SetChange{}
	change := func(name string) *device.SetChange {
		if bySet[name] == nil {
			bySet[name] = &device.SetChange{Set: name}
		}
		return bySet[name]
	}
	for _, a := range scope {
		for _, name := range want[a] {
			if !slices.Contains(have[a], name) {
				c := change(name)
				c.Add = append(c.Add, a)
			}
		}
		for _, name := range have[a] {
			if !slices.Contains(want[a], name) {
				c := change(name)
				c.Delete = append(c.Delete, a)
			}
		}
	}
	out := make([]device.SetChange, 0, len(bySet))
	for _, c := range bySet {
		slices.SortFunc(c.Add, netip.Addr.Compare)
		slices.SortFunc(c.Delete, netip.Addr.Compare)
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b device.SetChange) int { return strings.Compare(a.Set, b.Set) })
	return out
}

// syncFirewall installs changed rules or moves devices between sets (after a change of groups or
// settings).
func (s *Service) syncFirewall(ctx context.Context) {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	s.syncFirewallLocked(ctx, nil, false)
}
