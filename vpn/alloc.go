package vpn

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/rocca-pa/rocca"
)

// allocate returns the lowest address of subnet that is neither the network address, the server's
// (the first), the broadcast address nor taken by a live device or one that ended within holdBack.
// It halves the range while a part of it is fully taken, counting taken addresses in index ranges
// (about twice the number of devices in all), so no device is read into the program. Exhaustion is a user error that says what to do.
func allocate(ctx context.Context, q querier, subnet netip.Prefix, now time.Time, holdBack time.Duration) (netip.Addr, error) {
	first, last := poolRange(subnet)
	cut := now.Add(-holdBack)
	lo, hi := addrNum(first), addrNum(last)
	n, err := takenCount(ctx, q, first, last, cut)
	if err != nil {
		return netip.Addr{}, err
	}
	if int64(n) > hi-lo {
		hours := int(holdBack.Hours())
		return netip.Addr{}, rocca.Localized(rocca.ECONFLICT, "vpn.error.pool_exhausted",
			fmt.Sprintf("there are no free addresses left in the VPN network %s: revoke unused devices (their addresses become free again after %d hours) or enlarge vpn.subnet", subnet, hours),
			subnet.String(), hours)
	}
	// With n addresses taken, one of the first n+1 is free: search only those.
	hi = min(hi, lo+int64(n))
	for lo < hi { // a free address lies in [lo, hi]
		mid := lo + (hi-lo)/2
		n, err := takenCount(ctx, q, addrFromNum(lo), addrFromNum(mid), cut)
		if err != nil {
			return netip.Addr{}, err
		}
		if int64(n) > mid-lo {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return addrFromNum(lo), nil
}

// poolRange is the first and last address devices may get: after the server's, before the
// broadcast address.
func poolRange(subnet netip.Prefix) (first, last netip.Addr) {
	return subnet.Addr().Next().Next(), lastAddr(subnet).Prev()
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}
