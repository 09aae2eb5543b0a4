package device

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// packet is what the evaluator below knows about a packet.
type packet struct {
	iif, oif string
	src, dst string
	proto    byte // 1 icmp, 6 tcp, 17 udp
	dport    uint16
	reply    bool // conntrack: a reply of a connection opened from the other side
}

// eval runs the rules of one chain on p the way the kernel runs the expressions buildRuleset
// emits, and returns "accept", "drop", "masquerade" or "policy" when no rule decided. It fails the
// test on any expression it does not model, so a new kind of expression cannot go unchecked here.
func eval(t *testing.T, rs *ruleset, chain string, p packet) string {
	t.Helper()
	src, dst := netip.MustParseAddr(p.src), netip.MustParseAddr(p.dst)
	var nethdr []byte
	nfproto := byte(2) // NFPROTO_IPV4
	if src.Is4() {
		nethdr = make([]byte, 20)
		copy(nethdr[12:], src.AsSlice())
		copy(nethdr[16:], dst.AsSlice())
	} else {
		nfproto = 10 // NFPROTO_IPV6
		nethdr = make([]byte, 40)
		copy(nethdr[8:], src.AsSlice())
		copy(nethdr[24:], dst.AsSlice())
	}
	transport := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 40000), p.dport)
	ifname := func(n string) []byte { b := make([]byte, 16); copy(b, n); return b }

	for _, r := range rs.rules {
		if r.Chain.Name != chain {
			continue
		}
		var reg []byte
	exprs:
		for _, e := range r.Exprs {
			switch e := e.(type) {
			case *expr.Meta:
				switch e.Key {
				case expr.MetaKeyIIFNAME:
					reg = ifname(p.iif)
				case expr.MetaKeyOIFNAME:
					reg = ifname(p.oif)
				case expr.MetaKeyNFPROTO:
					reg = []byte{nfproto}
				case expr.MetaKeyL4PROTO:
					reg = []byte{p.proto}
				default:
					t.Fatalf("meta key %v not modelled", e.Key)
				}
			case *expr.Ct:
				if e.Key != expr.CtKeyDIRECTION {
					t.Fatalf("ct key %v not modelled", e.Key)
				}
				reg = []byte{0}
				if p.reply {
					reg = []byte{1}
				}
			case *expr.Payload:
				hdr := nethdr
				if e.Base == expr.PayloadBaseTransportHeader {
					hdr = transport
				}
				reg = append([]byte(nil), hdr[e.Offset:e.Offset+e.Len]...)
			case *expr.Bitwise:
				for i := range reg {
					reg[i] = reg[i]&e.Mask[i] ^ e.Xor[i]
				}
			case *expr.Cmp:
				eq := bytes.Equal(reg[:len(e.Data)], e.Data)
				if eq != (e.Op == expr.CmpOpEq) {
					break exprs
				}
			case *expr.Lookup:
				if !lookup(t, rs, e, reg) {
					break exprs
				}
			case *expr.Counter:
			case *expr.Masq:
				return "masquerade"
			case *expr.Verdict:
				switch e.Kind {
				case expr.VerdictAccept:
					return "accept"
				case expr.VerdictDrop:
					return "drop"
				}
				t.Fatalf("verdict %v not modelled", e.Kind)
			default:
				t.Fatalf("expression %T not modelled", e)
			}
		}
	}
	return "policy"
}

// lookup finds key in the set the expression names, by id as the kernel does within one batch. In
// an interval set (like the kernel's rbtree) the greatest element not above key decides, and
// matches unless it is an interval end; other sets match equal keys.
func lookup(t *testing.T, rs *ruleset, e *expr.Lookup, key []byte) bool {
	for _, s := range rs.sets {
		if s.set.ID != e.SetID {
			continue
		}
		if s.set.Name != e.SetName && !s.set.Anonymous {
			t.Fatalf("lookup names set %q with the id of set %q", e.SetName, s.set.Name)
		}
		if !s.set.Interval {
			return slices.ContainsFunc(s.elems, func(el nftables.SetElement) bool { return bytes.Equal(el.Key, key) })
		}
		var best *nftables.SetElement
		for i, el := range s.elems {
			if bytes.Compare(el.Key, key) <= 0 && (best == nil || bytes.Compare(el.Key, best.Key) > 0) {
				best = &s.elems[i]
			}
		}
		return best != nil && !best.IntervalEnd
	}
	t.Fatalf("rule looks up set %d, which the ruleset lacks", e.SetID)
	return false
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestFirewallRulesetVerdicts(t *testing.T) {
	rules := []Rule{
		{Src: prefixes("10.86.0.2/32", "10.86.0.6/31", "10.86.0.5/32"), Dst: netip.MustParsePrefix("192.168.1.0/24")},
		{Src: prefixes("10.86.0.3/32"), Dst: netip.MustParsePrefix("192.168.1.10/32"), Proto: "tcp", Port: 443},
		{Dst: netip.MustParsePrefix("192.168.1.53/32"), Port: 53},
		{Src: prefixes("10.86.0.20/32"), Dst: netip.MustParsePrefix("192.168.2.0/24"), Proto: "udp"},
		{Src: prefixes("fd86::2/128"), Dst: netip.MustParsePrefix("fd00:1::/64"), Proto: "udp"},
	}
	rs, err := buildRuleset("rocca0", netip.MustParsePrefix("10.86.0.1/24"), Policy{Rules: rules}, true)
	if err != nil {
		t.Fatal(err)
	}
	const vpn, lan, wan = "rocca0", "eth1", "eth0"
	forward := []struct {
		p    packet
		want string
	}{
		{packet{vpn, lan, "10.86.0.2", "192.168.1.7", 1, 0, false}, "accept"},
		{packet{vpn, lan, "10.86.0.5", "192.168.1.7", 6, 22, false}, "accept"},
		{packet{vpn, lan, "10.86.0.6", "192.168.1.7", 17, 5, false}, "accept"},
		{packet{vpn, lan, "10.86.0.7", "192.168.1.7", 1, 0, false}, "accept"},
		{packet{vpn, lan, "10.86.0.4", "192.168.1.7", 1, 0, false}, "drop"}, // between set ranges
		{packet{vpn, lan, "10.86.0.8", "192.168.1.7", 1, 0, false}, "drop"}, // just after them
		{packet{vpn, lan, "10.86.0.1", "192.168.1.7", 1, 0, false}, "drop"}, // just before them
		{packet{vpn, wan, "10.86.0.2", "192.168.2.7", 1, 0, false}, "drop"}, // outside the rule's Dst
		{packet{vpn, lan, "10.86.0.3", "192.168.1.10", 6, 443, false}, "accept"},
		{packet{vpn, lan, "10.86.0.3", "192.168.1.10", 6, 80, false}, "drop"},
		{packet{vpn, lan, "10.86.0.3", "192.168.1.10", 17, 443, false}, "drop"},
		{packet{vpn, lan, "10.86.0.3", "192.168.1.11", 6, 443, false}, "drop"},
		{packet{vpn, lan, "10.86.0.9", "192.168.1.53", 17, 53, false}, "accept"}, // any source, both protocols
		{packet{vpn, lan, "10.86.0.9", "192.168.1.53", 6, 53, false}, "accept"},
		{packet{vpn, lan, "10.86.0.9", "192.168.1.53", 17, 54, false}, "drop"},
		{packet{vpn, lan, "10.86.0.9", "192.168.1.53", 1, 0, false}, "drop"},
		{packet{vpn, lan, "10.86.0.20", "192.168.2.9", 17, 1, false}, "accept"},
		{packet{vpn, lan, "10.86.0.20", "192.168.2.9", 6, 1, false}, "drop"},
		{packet{vpn, lan, "fd86::2", "fd00:1::5", 17, 9, false}, "accept"},
		{packet{vpn, lan, "fd86::2", "fd00:1::5", 6, 9, false}, "drop"},
		{packet{vpn, lan, "fd86::3", "fd00:1::5", 17, 9, false}, "drop"},
		{packet{vpn, lan, "fd86::2", "fd00:2::5", 17, 9, false}, "drop"},
		// Devices cannot reach each other, whatever the rules and the direction.
		{packet{vpn, vpn, "10.86.0.2", "10.86.0.3", 1, 0, false}, "drop"},
		{packet{vpn, vpn, "10.86.0.2", "10.86.0.3", 6, 22, true}, "drop"},
		// Replies to connections opened from the LAN pass; the LAN's side is not ours to filter.
		{packet{vpn, lan, "10.86.0.4", "192.168.1.7", 6, 40000, true}, "accept"},
		{packet{lan, vpn, "192.168.1.7", "10.86.0.4", 6, 22, false}, "policy"},
		{packet{wan, lan, "203.0.113.9", "192.168.1.7", 6, 22, false}, "policy"},
	}
	for _, tt := range forward {
		if got := eval(t, rs, "forward", tt.p); got != tt.want {
			t.Errorf("forward %+v: %s, want %s", tt.p, got, tt.want)
		}
	}
	post := []struct {
		p    packet
		want string
	}{
		{packet{vpn, lan, "10.86.0.2", "192.168.1.7", 1, 0, false}, "masquerade"},
		{packet{vpn, wan, "10.86.0.200", "198.51.100.1", 6, 443, false}, "masquerade"},
		{packet{lan, vpn, "192.168.1.7", "10.86.0.2", 1, 0, false}, "policy"},
		{packet{vpn, vpn, "10.86.0.2", "10.86.0.3", 1, 0, false}, "policy"},
		{packet{vpn, lan, "10.86.1.2", "192.168.1.7", 1, 0, false}, "policy"},
		{packet{vpn, lan, "fd86::2", "fd00:1::5", 17, 9, false}, "policy"},
	}
	for _, tt := range post {
		if got := eval(t, rs, "postrouting", tt.p); got != tt.want {
			t.Errorf("postrouting %+v: %s, want %s", tt.p, got, tt.want)
		}
	}
}

func TestFirewallRulesetShape(t *testing.T) {
	rs, err := buildRuleset("rocca0", netip.MustParsePrefix("10.86.0.0/24"),
		Policy{Rules: []Rule{{Src: prefixes("10.86.0.2/32"), Dst: netip.MustParsePrefix("192.168.1.0/24"), Port: 53}}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if rs.table.Name != "rocca" || rs.table.Family != nftables.TableFamilyINet {
		t.Errorf("table %s family %d, want inet rocca", rs.table.Name, rs.table.Family)
	}
	type shape struct {
		name   string
		typ    nftables.ChainType
		hook   nftables.ChainHook
		prio   nftables.ChainPriority
		policy nftables.ChainPolicy
	}
	want := []shape{
		{"forward", nftables.ChainTypeFilter, *nftables.ChainHookForward, 0, nftables.ChainPolicyAccept},
		{"postrouting", nftables.ChainTypeNAT, *nftables.ChainHookPostrouting, 100, nftables.ChainPolicyAccept},
	}
	var got []shape
	for _, c := range rs.chains {
		if c.Table != rs.table {
			t.Errorf("chain %s not in our table", c.Name)
		}
		got = append(got, shape{c.Name, c.Type, *c.Hooknum, *c.Priority, *c.Policy})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("chains %+v, want %+v", got, want)
	}
	// One set, shared by the tcp and the udp rule that Port without Proto expands to.
	if len(rs.sets) != 1 {
		t.Fatalf("%d sets, want 1", len(rs.sets))
	}
	s := rs.sets[0].set
	if !s.Anonymous || !s.Constant || !s.Interval || s.KeyType != nftables.TypeIPAddr || s.ID == 0 || s.Table != rs.table {
		t.Errorf("set %+v, want an anonymous constant interval set of IPv4 addresses in our table", s)
	}
	for _, r := range rs.rules {
		if r.Table != rs.table {
			t.Errorf("rule outside our table")
		}
	}

	rs, err = buildRuleset("rocca0", netip.MustParsePrefix("10.86.0.0/24"), Policy{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.chains) != 1 || len(rs.sets) != 0 {
		t.Errorf("without masquerade and rules: %d chains, %d sets; want the forward chain only", len(rs.chains), len(rs.sets))
	}
	if got := eval(t, rs, "forward", packet{"rocca0", "eth1", "10.86.0.2", "192.168.1.7", 1, 0, false}); got != "drop" {
		t.Errorf("no rules: VPN traffic gets %s, want drop", got)
	}
}

// TestIntervalElems compares with what `nft --debug=netlink` sends for the same sets.
func TestIntervalElems(t *testing.T) {
	tests := []struct {
		in   []netip.Prefix
		want string
	}{
		{prefixes("10.0.0.2/32", "10.1.0.0/24", "10.0.0.3/32"), "0.0.0.0 end, 10.0.0.2, 10.0.0.4 end, 10.1.0.0, 10.1.1.0 end"},
		{prefixes("0.0.0.0/8", "255.255.255.0/24"), "0.0.0.0, 1.0.0.0 end, 255.255.255.0"},
		{prefixes("10.0.0.0/8", "10.1.2.3/32"), "0.0.0.0 end, 10.0.0.0, 11.0.0.0 end"},
		{prefixes("10.0.0.1/24"), "0.0.0.0 end, 10.0.0.0, 10.0.1.0 end"},
		{prefixes("fd86::2/128", "fd86::3/128"), ":: end, fd86::2, fd86::4 end"},
	}
	for _, tt := range tests {
		var got []string
		for _, el := range intervalElems(tt.in) {
			a, _ := netip.AddrFromSlice(el.Key)
			s := a.String()
			if el.IntervalEnd {
				s += " end"
			}
			got = append(got, s)
		}
		if g := fmt.Sprint(got); g != "["+joinComma(tt.want)+"]" {
			t.Errorf("intervalElems(%v) = %s, want [%s]", tt.in, g, tt.want)
		}
	}
}

func joinComma(s string) string {
	out := []byte(s)
	return string(bytes.ReplaceAll(out, []byte(", "), []byte(" ")))
}

func TestFirewallValidation(t *testing.T) {
	subnet := netip.MustParsePrefix("10.86.0.0/24")
	dst := netip.MustParsePrefix("192.168.1.0/24")
	tests := []struct {
		name   string
		iface  string
		subnet netip.Prefix
		rule   Rule
		key    string
	}{
		{"bad interface", "a/b", subnet, Rule{Dst: dst}, "vpn.device.invalid_name"},
		{"no subnet", "rocca0", netip.Prefix{}, Rule{Dst: dst}, "vpn.device.invalid_subnet"},
		{"no destination", "rocca0", subnet, Rule{}, "vpn.device.invalid_rule"},
		{"mixed families", "rocca0", subnet, Rule{Src: prefixes("fd86::2/128"), Dst: dst}, "vpn.device.invalid_rule"},
		{"unknown protocol", "rocca0", subnet, Rule{Dst: dst, Proto: "icmp"}, "vpn.device.invalid_protocol"},
	}
	for _, tt := range tests {
		_, err := buildRuleset(tt.iface, tt.subnet, Policy{Rules: []Rule{tt.rule}}, true)
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		checkUserErr(t, err, tt.key)
	}
}

// TestFirewallNamedSets: rules with SrcSet match exactly the addresses of their named set, an
// empty set matches nothing, and the sets are plain hash sets that UpdateFirewallSets can change.
func TestFirewallNamedSets(t *testing.T) {
	p := Policy{
		Sets: []Set{
			{Name: "default", Addrs: []netip.Addr{netip.MustParseAddr("10.86.0.4"), netip.MustParseAddr("10.86.0.2"), netip.MustParseAddr("10.86.0.2")}},
			{Name: "group7", Addrs: []netip.Addr{netip.MustParseAddr("10.86.0.3")}},
			{Name: "group9"},
		},
		Rules: []Rule{
			{Dst: netip.MustParsePrefix("192.168.1.53/32"), Port: 53},
			{SrcSet: "group7", Dst: netip.MustParsePrefix("192.168.1.10/32"), Proto: "tcp", Port: 443},
			{SrcSet: "group9", Dst: netip.MustParsePrefix("192.168.1.0/24")},
			{SrcSet: "default", Dst: netip.MustParsePrefix("192.168.1.0/24")},
		},
	}
	rs, err := buildRuleset("rocca0", netip.MustParsePrefix("10.86.0.0/24"), p, true)
	if err != nil {
		t.Fatal(err)
	}
	const vpn, lan = "rocca0", "eth1"
	for _, tt := range []struct {
		p    packet
		want string
	}{
		{packet{vpn, lan, "10.86.0.2", "192.168.1.7", 1, 0, false}, "accept"},
		{packet{vpn, lan, "10.86.0.4", "192.168.1.7", 6, 22, false}, "accept"},
		{packet{vpn, lan, "10.86.0.3", "192.168.1.7", 1, 0, false}, "drop"}, // group7 only reaches .10 tcp/443
		{packet{vpn, lan, "10.86.0.3", "192.168.1.10", 6, 443, false}, "accept"},
		{packet{vpn, lan, "10.86.0.3", "192.168.1.10", 17, 443, false}, "drop"},
		{packet{vpn, lan, "10.86.0.2", "192.168.1.10", 6, 443, false}, "accept"}, // through default
		{packet{vpn, lan, "10.86.0.5", "192.168.1.7", 1, 0, false}, "drop"},      // in no set; group9 is empty
		{packet{vpn, lan, "10.86.0.5", "192.168.1.53", 17, 53, false}, "accept"},
		{packet{vpn, vpn, "10.86.0.2", "10.86.0.4", 1, 0, false}, "drop"},
	} {
		if got := eval(t, rs, "forward", tt.p); got != tt.want {
			t.Errorf("forward %+v: %s, want %s", tt.p, got, tt.want)
		}
	}
	var names []string
	for _, s := range rs.sets {
		st := s.set
		names = append(names, fmt.Sprintf("%s:%d", st.Name, len(s.elems)))
		if st.Anonymous || st.Constant || st.Interval || st.KeyType != nftables.TypeIPAddr || st.ID == 0 || st.Table != rs.table {
			t.Errorf("set %+v, want a named, changeable hash set of IPv4 addresses in our table", st)
		}
	}
	if got := fmt.Sprint(names); got != "[default:2 group7:1 group9:0]" {
		t.Errorf("sets %s, want default (duplicates dropped), group7 and the empty group9", got)
	}
}

func TestFirewallNamedSetValidation(t *testing.T) {
	subnet := netip.MustParsePrefix("10.86.0.0/24")
	dst := netip.MustParsePrefix("192.168.1.0/24")
	for name, p := range map[string]Policy{
		"rule names a missing set": {Rules: []Rule{{SrcSet: "nope", Dst: dst}}},
		"set and prefixes":         {Sets: []Set{{Name: "a"}}, Rules: []Rule{{SrcSet: "a", Src: prefixes("10.86.0.2/32"), Dst: dst}}},
		"set with IPv6 target":     {Sets: []Set{{Name: "a"}}, Rules: []Rule{{SrcSet: "a", Dst: netip.MustParsePrefix("fd00::/64")}}},
		"anonymous-looking name":   {Sets: []Set{{Name: "__set0"}}},
		"upper case name":          {Sets: []Set{{Name: "Default"}}},
		"set twice":                {Sets: []Set{{Name: "a"}, {Name: "a"}}},
		"IPv6 address in a set":    {Sets: []Set{{Name: "a", Addrs: []netip.Addr{netip.MustParseAddr("fd86::2")}}}},
	} {
		if _, err := buildRuleset("rocca0", subnet, p, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
