package installer

import (
	"context"
	"net/netip"
	"slices"
)

// checkSubnet: the VPN subnet must not be a network this server is on (BLOCCO: its own traffic would
// go into the tunnel) and should not be one it routes to (AVVISO: devices could not reach it).
func checkSubnet(_ context.Context, in Input) Result {
	v := in.Config.VPN
	if !v.Enabled {
		return ok("installer.check.vpn_disabled")
	}
	subnet, err := netip.ParsePrefix(v.Subnet)
	if err != nil {
		return block("installer.check.subnet.invalid", v.Subnet).fix("installer.fix.subnet", "10.86.0.0/24")
	}
	addrs, _ := in.Sys.Addrs()
	routes, _ := in.Sys.Routes()
	taken := takenPrefixes(addrs, routes, v.Interface)
	free := ProposeSubnet(subnet.Bits(), taken)
	for _, a := range addrs {
		if a.Iface != v.Interface && !a.Prefix.Addr().IsLoopback() && a.Prefix.Masked().Overlaps(subnet) {
			return block("installer.check.subnet.local", v.Subnet, a.Prefix.Masked().String(), a.Iface).fix("installer.fix.subnet", free.String())
		}
	}
	for _, r := range routes {
		if r.Iface != v.Interface && r.Dst.Bits() > 0 && r.Dst.Overlaps(subnet) {
			return warn("installer.check.subnet.route", v.Subnet, r.Dst.String(), r.Iface).fix("installer.fix.subnet", free.String())
		}
	}
	return ok("installer.check.subnet.ok", v.Subnet)
}

// takenPrefixes are the networks of the host's interfaces and routes, except the default route,
// loopback and Rocca's own VPN interface.
func takenPrefixes(addrs []Addr, routes []Route, own string) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range addrs {
		if a.Iface != own && a.Prefix.Addr().Is4() && !a.Prefix.Addr().IsLoopback() {
			out = append(out, a.Prefix.Masked())
		}
	}
	for _, r := range routes {
		if r.Iface != own && r.Dst.Bits() > 0 && !r.Dst.Addr().IsLoopback() {
			out = append(out, r.Dst)
		}
	}
	return out
}

// ProposeSubnet returns a 10.x.0.0 network of the given size that overlaps none of taken, starting
// from Rocca's usual 10.86.0.0.
func ProposeSubnet(bits int, taken []netip.Prefix) netip.Prefix {
	for i := range 256 {
		candidate := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte((86 + i) % 256), 0, 0}), bits)
		if !slices.ContainsFunc(taken, candidate.Overlaps) {
			return candidate
		}
	}
	return netip.MustParsePrefix("100.86.0.0/24") // every 10.x taken: the shared address space
}
