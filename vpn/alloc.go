package vpn

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/rocca-pa/rocca"
)

// allocate returns the lowest address of subnet that is neither the network address, the server's
// (the first), the broadcast address nor taken. Exhaustion is a user error that says what to do.
func allocate(subnet netip.Prefix, taken map[netip.Addr]bool, holdBack time.Duration) (netip.Addr, error) {
	server := subnet.Addr().Next()
	last := lastAddr(subnet)
	for a := server.Next(); a.IsValid() && a.Less(last); a = a.Next() {
		if !taken[a] {
			return a, nil
		}
	}
	hours := int(holdBack.Hours())
	return netip.Addr{}, rocca.Localized(rocca.ECONFLICT, "vpn.error.pool_exhausted",
		fmt.Sprintf("there are no free addresses left in the VPN network %s: revoke unused devices (their addresses become free again after %d hours) or enlarge vpn.subnet", subnet, hours),
		subnet.String(), hours)
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}
