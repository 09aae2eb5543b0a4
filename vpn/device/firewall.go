package device

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/rocca-pa/rocca"
	"golang.org/x/sys/unix"
)

// FirewallTable is the name of our nftables table (family inet). Nothing else in the ruleset is
// touched. ApplyFirewall replaces the table as a whole; UpdateFirewallSets changes only the
// elements of its named sets. Both are atomic.
const FirewallTable = "rocca"

// ctDirReply is IP_CT_DIR_REPLY, the conntrack direction of a connection's answers.
const ctDirReply = 1

// Rule lets VPN traffic from Src (or from the addresses in the named set SrcSet) to Dst through:
// all of it, or only Proto ("tcp" or "udp") and, when Port is set, only that destination port.
// Port without Proto means both tcp and udp. With neither Src nor SrcSet any VPN address may send.
// WireGuard itself guarantees that a peer can only send from its own allowed addresses, so Src
// and sets may name devices by their VPN address.
//
// Src is fixed in the rule; SrcSet names a Set of the same Policy, whose addresses change with
// UpdateFirewallSets while the rule stays. A rule with SrcSet has an IPv4 Dst.
type Rule struct {
	Src    []netip.Prefix `json:"src,omitempty"`
	SrcSet string         `json:"src_set,omitempty"`
	Dst    netip.Prefix   `json:"dst"`
	Proto  string         `json:"proto,omitempty"`
	Port   uint16         `json:"port,omitempty"`
}

// Set is a named set of IPv4 addresses (devices) in our table. An empty set matches nothing.
type Set struct {
	Name  string       `json:"name"`
	Addrs []netip.Addr `json:"addrs,omitempty"`
}

// Policy is what ApplyFirewall installs: the named sets with their addresses, and the rules.
type Policy struct {
	Sets  []Set  `json:"sets,omitempty"`
	Rules []Rule `json:"rules,omitempty"`
}

// SetChange adds addresses to one named set and deletes others from it.
type SetChange struct {
	Set    string       `json:"set"`
	Add    []netip.Addr `json:"add,omitempty"`
	Delete []netip.Addr `json:"delete,omitempty"`
}

// ApplyFirewall replaces the table `inet rocca` in one transaction with: the named sets of p; a
// forward chain where traffic coming from iface is dropped when it goes back out of iface (devices
// cannot reach each other) or matches no rule, replies to connections opened from the LAN are let
// through, and p's rules accept the rest; and, with masquerade, a postrouting chain that
// masquerades traffic from vpnSubnet leaving through any other interface. Other forwarded traffic
// of the host is left alone. The chains match iface by name, so they keep working when the
// interface is recreated.
func ApplyFirewall(ctx context.Context, iface string, vpnSubnet netip.Prefix, p Policy, masquerade bool) error {
	rs, err := buildRuleset(iface, vpnSubnet, p, masquerade)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	// Adding first makes the delete succeed when the table does not exist yet; all three happen
	// in the same transaction, so no packet ever sees an empty or half-built table.
	c.AddTable(rs.table)
	c.DelTable(rs.table)
	c.AddTable(rs.table)
	for _, ch := range rs.chains {
		c.AddChain(ch)
	}
	for _, s := range rs.sets {
		if err := c.AddSet(s.set, s.elems); err != nil {
			return fmt.Errorf("firewall set: %w", err)
		}
	}
	for _, r := range rs.rules {
		c.AddRule(r)
	}
	if err := c.Flush(); err != nil {
		return firewallErr(err)
	}
	return nil
}

// UpdateFirewallSets adds and deletes addresses of named sets that ApplyFirewall installed, in one
// transaction: all the changes happen or none. The rules stay as they are, so the cost does not
// grow with the number of devices. It fails when the table or a set is missing or an address to
// delete is not in its set (someone changed the table): the caller then installs the whole
// Policy again with ApplyFirewall. Adding an address already present is not an error.
func UpdateFirewallSets(ctx context.Context, changes []SetChange) error {
	t := &nftables.Table{Name: FirewallTable, Family: nftables.TableFamilyINet}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	for _, ch := range changes {
		if err := validateSetName(ch.Set); err != nil {
			return err
		}
		s := &nftables.Set{Table: t, Name: ch.Set, KeyType: nftables.TypeIPAddr}
		del, err := addrElems(ch.Delete)
		if err == nil && len(del) > 0 {
			err = c.SetDeleteElements(s, del)
		}
		if err != nil {
			return fmt.Errorf("firewall set %s: %w", ch.Set, err)
		}
		add, err := addrElems(ch.Add)
		if err == nil && len(add) > 0 {
			err = c.SetAddElements(s, add)
		}
		if err != nil {
			return fmt.Errorf("firewall set %s: %w", ch.Set, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		if isPermission(err) {
			return errNoPermission(err)
		}
		return fmt.Errorf("update firewall sets: %w", err)
	}
	return nil
}

// FirewallPresent reports whether the table `inet rocca` exists. Something outside Rocca may
// delete it (`nft flush ruleset`, as a restart of Debian's nftables service does), which leaves
// the devices' traffic unfiltered: the caller then installs it again.
func FirewallPresent(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c, err := nftables.New()
	if err != nil {
		return false, fmt.Errorf("open nftables: %w", err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, firewallErr(err)
	}
	return slices.ContainsFunc(tables, func(t *nftables.Table) bool { return t.Name == FirewallTable }), nil
}

// RemoveFirewall deletes the table `inet rocca`; it is not an error if there is none.
func RemoveFirewall(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	t := &nftables.Table{Name: FirewallTable, Family: nftables.TableFamilyINet}
	c.AddTable(t)
	c.DelTable(t)
	if err := c.Flush(); err != nil {
		return firewallErr(err)
	}
	return nil
}

func firewallErr(err error) error {
	if isPermission(err) {
		return errNoPermission(err)
	}
	return withCause(rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.firewall_failed",
		"The VPN firewall rules could not be installed: the kernel needs nftables support (nf_tables, nft_masq, nft_ct modules; Linux 5.2 or later)."), err)
}

// ruleset is the whole content of our table, built without touching the kernel so tests can
// inspect it.
type ruleset struct {
	table  *nftables.Table
	chains []*nftables.Chain
	sets   []setElems // named and anonymous, in the order they are added
	named  map[string]*nftables.Set
	rules  []*nftables.Rule
}

type setElems struct {
	set   *nftables.Set
	elems []nftables.SetElement
}

// buildRuleset validates its input and returns the table's objects.
func buildRuleset(iface string, vpnSubnet netip.Prefix, p Policy, masquerade bool) (*ruleset, error) {
	if err := validateName(iface); err != nil {
		return nil, err
	}
	if !vpnSubnet.IsValid() || vpnSubnet.Addr().Is4In6() || vpnSubnet.Addr().Zone() != "" {
		return nil, rocca.Localized(rocca.EINVALID, "vpn.device.invalid_subnet", fmt.Sprintf("The VPN network %s is not valid.", vpnSubnet), vpnSubnet.String())
	}
	for i, r := range p.Rules {
		if err := r.validate(); err != nil {
			return nil, withCause(err, fmt.Errorf("rule %d", i+1))
		}
	}
	t := &nftables.Table{Name: FirewallTable, Family: nftables.TableFamilyINet}
	accept := nftables.ChainPolicyAccept
	fwd := &nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept}
	rs := &ruleset{table: t, chains: []*nftables.Chain{fwd}, named: map[string]*nftables.Set{}}
	for _, st := range p.Sets {
		if err := rs.addNamedSet(st); err != nil {
			return nil, err
		}
	}
	for i, r := range p.Rules {
		if r.SrcSet != "" && rs.named[r.SrcSet] == nil {
			return nil, fmt.Errorf("firewall rule %d: no set named %q", i+1, r.SrcSet)
		}
	}
	rules := p.Rules
	add := func(ch *nftables.Chain, exprs ...[]expr.Any) {
		rs.rules = append(rs.rules, &nftables.Rule{Table: t, Chain: ch, Exprs: slices.Concat(exprs...)})
	}

	fromVPN := matchIfname(expr.MetaKeyIIFNAME, iface, expr.CmpOpEq)
	add(fwd, fromVPN, matchIfname(expr.MetaKeyOIFNAME, iface, expr.CmpOpEq), counterVerdict(expr.VerdictDrop))
	// Replies of connections someone on the LAN opened toward a device; connections a device
	// opens stay in the original direction and meet the rules on every packet, so a rule taken
	// away also stops connections already open.
	add(fwd, fromVPN, []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeyDIRECTION},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{ctDirReply}},
	}, verdict(expr.VerdictAccept))
	for _, r := range rules {
		src := rs.srcMatch(r)
		for _, proto := range r.protos() {
			add(fwd, fromVPN, matchFamily(r.Dst), src, matchPrefix(r.Dst, false), matchProto(proto, r.Port), verdict(expr.VerdictAccept))
		}
	}
	add(fwd, fromVPN, counterVerdict(expr.VerdictDrop))

	if masquerade {
		post := &nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource, Policy: &accept}
		rs.chains = append(rs.chains, post)
		add(post, matchFamily(vpnSubnet), matchPrefix(vpnSubnet.Masked(), true),
			matchIfname(expr.MetaKeyOIFNAME, iface, expr.CmpOpNeq), []expr.Any{&expr.Counter{}, &expr.Masq{}})
	}
	return rs, nil
}

func (r Rule) validate() *rocca.Error {
	ok := r.Dst.IsValid() && !r.Dst.Addr().Is4In6() && r.Dst.Addr().Zone() == ""
	if r.SrcSet != "" { // the sets hold IPv4 addresses
		ok = ok && len(r.Src) == 0 && r.Dst.Addr().Is4()
	}
	for _, s := range r.Src {
		ok = ok && s.IsValid() && s.Addr().Is4() == r.Dst.Addr().Is4() && !s.Addr().Is4In6() && s.Addr().Zone() == ""
	}
	if !ok {
		return rocca.Localized(rocca.EINVALID, "vpn.device.invalid_rule", fmt.Sprintf("The VPN access rule toward %s is not valid: addresses must be valid and all IPv4 or all IPv6.", r.Dst), r.Dst.String())
	}
	switch r.Proto {
	case "", "tcp", "udp":
	default:
		return rocca.Localized(rocca.EINVALID, "vpn.device.invalid_protocol", fmt.Sprintf("The protocol %q in a VPN access rule is not valid: use tcp, udp or nothing for all traffic.", r.Proto), r.Proto)
	}
	return nil
}

// protos lists the transport protocols one rule expands to: "" (all traffic) or tcp/udp.
func (r Rule) protos() []string {
	if r.Proto == "" && r.Port != 0 {
		return []string{"tcp", "udp"}
	}
	return []string{r.Proto}
}

// addNamedSet adds a named set of IPv4 addresses with its elements. It is a hash set (one lookup
// however many devices) that is neither constant nor an interval set, so single addresses can be
// added and deleted later.
func (rs *ruleset) addNamedSet(st Set) error {
	if err := validateSetName(st.Name); err != nil {
		return err
	}
	if rs.named[st.Name] != nil {
		return fmt.Errorf("firewall set %q defined twice", st.Name)
	}
	elems, err := addrElems(st.Addrs)
	if err != nil {
		return fmt.Errorf("firewall set %s: %w", st.Name, err)
	}
	s := &nftables.Set{Table: rs.table, ID: uint32(len(rs.sets) + 1), Name: st.Name, KeyType: nftables.TypeIPAddr}
	rs.sets = append(rs.sets, setElems{set: s, elems: elems})
	rs.named[st.Name] = s
	return nil
}

// validateSetName accepts the names package vpn gives its sets: 1 to 32 lower-case letters,
// digits and '_', not starting with '_' (nft's anonymous sets are "__set<n>").
func validateSetName(name string) error {
	ok := len(name) >= 1 && len(name) <= 32 && name[0] != '_'
	for _, r := range name {
		ok = ok && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}
	if !ok {
		return fmt.Errorf("firewall set name %q is not valid", name)
	}
	return nil
}

// addrElems encodes IPv4 addresses as set elements, sorted and without repeats.
func addrElems(addrs []netip.Addr) ([]nftables.SetElement, error) {
	sorted := slices.Clone(addrs)
	slices.SortFunc(sorted, netip.Addr.Compare)
	sorted = slices.Compact(sorted)
	elems := make([]nftables.SetElement, 0, len(sorted))
	for _, a := range sorted {
		if !a.Is4() {
			return nil, fmt.Errorf("%s is not an IPv4 address", a)
		}
		elems = append(elems, nftables.SetElement{Key: a.AsSlice()})
	}
	return elems, nil
}

// srcMatch matches the rule's sources: the named set, or an anonymous interval set of the fixed
// prefixes (one lookup however many devices), or nothing when any source is allowed.
func (rs *ruleset) srcMatch(r Rule) []expr.Any {
	if r.SrcSet != "" {
		s := rs.named[r.SrcSet]
		return []expr.Any{
			addrPayload(false, true),
			&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
		}
	}
	if len(r.Src) == 0 || slices.ContainsFunc(r.Src, func(p netip.Prefix) bool { return p.Bits() == 0 }) {
		return nil
	}
	keyType := nftables.TypeIPAddr
	if r.Dst.Addr().Is6() {
		keyType = nftables.TypeIP6Addr
	}
	s := &nftables.Set{
		Table: rs.table, ID: uint32(len(rs.sets) + 1), Name: "__set%d",
		Anonymous: true, Constant: true, Interval: true, KeyType: keyType,
	}
	rs.sets = append(rs.sets, setElems{set: s, elems: intervalElems(r.Src)})
	return []expr.Any{
		addrPayload(r.Dst.Addr().Is6(), true),
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
	}
}

// intervalElems encodes prefixes the way nft does for an interval set: merged, sorted ranges as
// start elements and end-exclusive interval-end elements, led by an end element at zero.
func intervalElems(prefixes []netip.Prefix) []nftables.SetElement {
	type span struct{ lo, hi netip.Addr } // inclusive
	spans := make([]span, 0, len(prefixes))
	for _, p := range prefixes {
		p = p.Masked()
		spans = append(spans, span{p.Addr(), lastAddr(p)})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo.Compare(b.lo) })
	merged := spans[:1]
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if next := last.hi.Next(); next.IsValid() && s.lo.Compare(next) > 0 {
			merged = append(merged, s)
		} else if s.hi.Compare(last.hi) > 0 {
			last.hi = s.hi
		}
	}
	var elems []nftables.SetElement
	if zero := netip.IPv4Unspecified(); merged[0].lo != zero && merged[0].lo != netip.IPv6Unspecified() {
		elems = append(elems, nftables.SetElement{Key: make([]byte, merged[0].lo.BitLen()/8), IntervalEnd: true})
	}
	for _, s := range merged {
		elems = append(elems, nftables.SetElement{Key: s.lo.AsSlice()})
		if end := s.hi.Next(); end.IsValid() { // no end element when the range runs to the top
			elems = append(elems, nftables.SetElement{Key: end.AsSlice(), IntervalEnd: true})
		}
	}
	return elems
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// matchIfname compares the interface name the way nft does, on all IFNAMSIZ bytes.
func matchIfname(key expr.MetaKey, name string, op expr.CmpOp) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: op, Register: 1, Data: b}}
}

// matchFamily must precede any address match in an inet table, where IPv4 and IPv6 packets meet.
func matchFamily(p netip.Prefix) []expr.Any {
	fam := byte(unix.NFPROTO_IPV4)
	if p.Addr().Is6() {
		fam = unix.NFPROTO_IPV6
	}
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{fam}}}
}

// matchPrefix matches the source or destination address against p; /0 matches everything.
func matchPrefix(p netip.Prefix, src bool) []expr.Any {
	if p.Bits() == 0 {
		return nil
	}
	p = p.Masked()
	n := p.Addr().BitLen() / 8
	out := []expr.Any{addrPayload(p.Addr().Is6(), src)}
	if p.Bits() < p.Addr().BitLen() {
		mask := net.CIDRMask(p.Bits(), p.Addr().BitLen())
		out = append(out, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: uint32(n), Mask: mask, Xor: make([]byte, n)})
	}
	return append(out, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()})
}

func addrPayload(v6, src bool) *expr.Payload {
	off, n := uint32(16), uint32(4) // IPv4 daddr
	switch {
	case !v6 && src:
		off = 12
	case v6 && src:
		off, n = 8, 16
	case v6:
		off, n = 24, 16
	}
	return &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n}
}

// matchProto matches the transport protocol and, when port is set, the destination port.
func matchProto(proto string, port uint16) []expr.Any {
	if proto == "" {
		return nil
	}
	num := byte(unix.IPPROTO_TCP)
	if proto == "udp" {
		num = unix.IPPROTO_UDP
	}
	out := []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{num}}}
	if port != 0 {
		out = append(out,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, port)})
	}
	return out
}

func verdict(k expr.VerdictKind) []expr.Any { return []expr.Any{&expr.Verdict{Kind: k}} }

func counterVerdict(k expr.VerdictKind) []expr.Any {
	return []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: k}}
}
