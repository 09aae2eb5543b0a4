package device

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"

	"github.com/rocca-pa/rocca"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// routeProto marks the routes SetRoutes owns, so it can remove its stale ones and never touches
// routes someone else added. 82 ('R') is not among the numbers /etc/iproute2/rt_protos assigns.
const routeProto netlink.RouteProtocol = 82

// setLink makes MTU and addresses match opts and brings the link up; every step is a no-op when
// already so, which is what adopting a live interface needs.
func (d *Device) setLink(opts Options) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	link, err := d.nl.LinkByName(d.name)
	if err != nil {
		return fmt.Errorf("look up %s: %w", d.name, err)
	}
	if link.Attrs().MTU != opts.MTU {
		if err := d.nl.LinkSetMTU(link, opts.MTU); err != nil {
			return netlinkErr("set mtu of "+d.name, err)
		}
	}
	if err := d.syncAddresses(link, opts.Addresses); err != nil {
		return err
	}
	if err := d.nl.LinkSetUp(link); err != nil {
		return netlinkErr("bring up "+d.name, err)
	}
	d.index = link.Attrs().Index
	return nil
}

// checkLink reports, with an error wrapping fs.ErrNotExist, that the interface is gone or is no
// longer the link Open configured: the program that owns it (external mode) or an administrator
// created it again, and a new link has no key, port, addresses or peers until it is opened again.
func (d *Device) checkLink() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	link, err := d.nl.LinkByName(d.name)
	switch {
	case errors.As(err, new(netlink.LinkNotFoundError)):
		return fmt.Errorf("interface %s is gone: %w", d.name, fs.ErrNotExist)
	case err != nil:
		return fmt.Errorf("look up %s: %w", d.name, err)
	case d.index != 0 && link.Attrs().Index != d.index:
		return fmt.Errorf("interface %s was created again (index %d, configured %d): %w", d.name, link.Attrs().Index, d.index, fs.ErrNotExist)
	}
	return nil
}

// syncAddresses adds the wanted addresses and removes any other global address of the link.
func (d *Device) syncAddresses(link netlink.Link, want []netip.Prefix) error {
	wanted := map[netip.Prefix]bool{}
	for _, p := range want {
		wanted[p] = true
		addr := &netlink.Addr{IPNet: ipNet(p)}
		if p.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD // the tunnel has no neighbours to collide with
		}
		if err := d.nl.AddrReplace(link, addr); err != nil {
			return netlinkErr("add address "+p.String()+" to "+d.name, err)
		}
	}
	have, err := d.nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list addresses of %s: %w", d.name, err)
	}
	for _, a := range have {
		p, ok := prefixOf(a.IPNet)
		if !ok || wanted[p] || p.Addr().IsLinkLocalUnicast() {
			continue
		}
		if err := d.nl.AddrDel(link, &a); err != nil {
			return netlinkErr("remove address "+p.String()+" from "+d.name, err)
		}
	}
	return nil
}

// SetRoutes makes the routes through the interface exactly dst (besides the subnet routes the
// kernel derives from the addresses): missing ones are added, stale ones it added earlier removed.
// Calling it twice with the same list changes nothing.
func (d *Device) SetRoutes(ctx context.Context, dst []netip.Prefix) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	wanted := map[netip.Prefix]bool{}
	for _, p := range dst {
		if !p.IsValid() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			return rocca.Localized(rocca.EINVALID, "vpn.device.invalid_route", fmt.Sprintf("The VPN route %s is not valid.", p), p.String())
		}
		wanted[p.Masked()] = true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	link, err := d.nl.LinkByName(d.name)
	if err != nil {
		return fmt.Errorf("look up %s: %w", d.name, err)
	}
	idx := link.Attrs().Index
	for p := range wanted {
		r := &netlink.Route{LinkIndex: idx, Dst: ipNet(p), Scope: netlink.SCOPE_LINK, Protocol: routeProto}
		if err := d.nl.RouteReplace(r); err != nil {
			return netlinkErr("add route "+p.String()+" via "+d.name, err)
		}
	}
	have, err := d.nl.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{LinkIndex: idx, Protocol: routeProto},
		netlink.RT_FILTER_OIF|netlink.RT_FILTER_PROTOCOL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list routes of %s: %w", d.name, err)
	}
	for _, r := range have {
		p, ok := prefixOf(r.Dst)
		if r.Dst == nil { // a default route
			p, ok = netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
			if r.Family == netlink.FAMILY_V6 {
				p = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
		}
		if ok && wanted[p] {
			continue
		}
		if err := d.nl.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return netlinkErr("remove route via "+d.name, err)
		}
	}
	return nil
}

// netlinkErr turns a permission failure into the user error that says how to fix it.
func netlinkErr(what string, err error) error {
	if isPermission(err) {
		return errNoPermission(err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// prefixOf converts back, keeping the host bits (10.86.0.1/24 stays so).
func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	ones, bits := n.Mask.Size()
	if bits != addr.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(addr, ones), true
}
