package vpn

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/rocca-pa/rocca/vpn/device"
)

// Rules returns the access rules the firewall should hold now:
//   - every device may reach the configured DNS servers on port 53;
//   - devices of users in one or more groups reach only their groups' destinations;
//   - devices of users in no group reach what the preset routes: the LAN ranges ("rete comunale"),
//     the custom ranges, or everything ("tutto il traffico").
//
// Traffic between devices and anything else is dropped by the firewall itself. Devices are named
// by their VPN address: WireGuard lets a device send only from its own address.
func (s *Service) Rules(ctx context.Context) ([]device.Rule, error) {
	want, err := s.desired(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := loadGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	set, err := loadSettings(ctx, s.db)
	if err != nil {
		return nil, err
	}
	byOwner := map[int64][]netip.Prefix{}
	for _, w := range want {
		byOwner[w.peer.OwnerID] = append(byOwner[w.peer.OwnerID], netip.PrefixFrom(w.peer.Address, 32))
	}
	var rules []device.Rule
	for _, d := range s.net.dns {
		if d.Is4() {
			rules = append(rules, device.Rule{Dst: netip.PrefixFrom(d, 32), Port: 53})
		}
	}
	grouped := map[int64]bool{}
	for _, g := range groups {
		var src []netip.Prefix
		for _, uid := range g.Members {
			grouped[uid] = true
			src = append(src, byOwner[uid]...)
		}
		if len(src) == 0 {
			continue // an empty source list would mean "any device"
		}
		sortPrefixes(src)
		for _, d := range g.Destinations {
			rules = append(rules, device.Rule{Src: src, Dst: d.Prefix.Masked(), Proto: d.Proto, Port: d.Port})
		}
	}
	var rest []netip.Prefix
	for uid, addrs := range byOwner {
		if !grouped[uid] {
			rest = append(rest, addrs...)
		}
	}
	if len(rest) > 0 {
		sortPrefixes(rest)
		for _, dst := range s.presetDestinations(set) {
			rules = append(rules, device.Rule{Src: rest, Dst: dst})
		}
	}
	return rules, nil
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

func sortPrefixes(p []netip.Prefix) {
	slices.SortFunc(p, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
}

// syncFirewallLocked installs the rules when they changed since the last install, or always when
// force is set (a reopened interface). The caller holds devMu.
func (s *Service) syncFirewallLocked(ctx context.Context, force bool) {
	if s.firewall == nil {
		return
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		s.logger.Error("compute vpn firewall rules", "err", err)
		return
	}
	sig := rulesSignature(rules)
	if !force && sig == s.rulesSig {
		return
	}
	if err := s.firewall.ApplyFirewall(ctx, rules); err != nil {
		s.logger.Error("install vpn firewall rules; the reconcile loop will retry", "err", err)
		s.rulesSig = ""
		return
	}
	s.rulesSig = sig
	s.logger.Info("vpn firewall rules installed", "rules", len(rules))
}

func rulesSignature(rules []device.Rule) string {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "%v>%s/%s/%d;", r.Src, r.Dst, r.Proto, r.Port)
	}
	return b.String()
}

// syncFirewall installs changed rules (after a change of groups or settings).
func (s *Service) syncFirewall(ctx context.Context) {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	s.syncFirewallLocked(ctx, false)
}
