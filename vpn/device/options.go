package device

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/rocca-pa/rocca"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// The modes of Options.Mode.
const (
	ModeAuto      = "auto"      // kernel WireGuard when the module is usable, otherwise userspace
	ModeKernel    = "kernel"    // the in-kernel module only
	ModeUserspace = "userspace" // the embedded golang.zx2c4.com/wireguard on a TUN device
	// ModeExternal configures an interface another program creates and runs (wg-quick or
	// systemd-networkd for a kernel interface, a wireguard-go service): Open never creates it and
	// Close and Destroy never delete it, so its tunnels outlive this process.
	ModeExternal = "external"
)

// DefaultMTU is the WireGuard default: 1500 minus the IPv6 and WireGuard overhead.
const DefaultMTU = 1420

// Options describe the interface Open creates or adopts.
type Options struct {
	Name       string         // interface name, e.g. "rocca0"
	Mode       string         // ModeAuto (also when empty), ModeKernel, ModeUserspace or ModeExternal
	ListenPort int            // UDP port of the tunnel, 1-65535
	PrivateKey wgtypes.Key    // the server's key; never logged
	Addresses  []netip.Prefix // the server's own addresses with the subnet length, e.g. 10.86.0.1/24
	MTU        int            // 0 means DefaultMTU
}

// withDefaults returns o with the empty fields filled in.
func (o Options) withDefaults() Options {
	if o.Mode == "" {
		o.Mode = ModeAuto
	}
	if o.MTU == 0 {
		o.MTU = DefaultMTU
	}
	return o
}

// Validate reports the first wrong field as a user error. Empty Mode and MTU are allowed (defaults).
func (o Options) Validate() error {
	o = o.withDefaults()
	if err := validateName(o.Name); err != nil {
		return err
	}
	switch o.Mode {
	case ModeAuto, ModeKernel, ModeUserspace, ModeExternal:
	default:
		return rocca.Localized(rocca.EINVALID, "vpn.device.invalid_mode", fmt.Sprintf("The VPN mode %q is not valid: use auto, kernel, userspace or external.", o.Mode), o.Mode)
	}
	if o.ListenPort < 1 || o.ListenPort > 65535 {
		return rocca.Localized(rocca.EINVALID, "vpn.device.invalid_port", fmt.Sprintf("The VPN port %d is not valid: use a number from 1 to 65535.", o.ListenPort), o.ListenPort)
	}
	if o.PrivateKey == (wgtypes.Key{}) {
		return rocca.Localized(rocca.EINVALID, "vpn.device.missing_key", "The VPN server has no private key.")
	}
	if o.MTU < 576 || o.MTU > 65535 {
		return rocca.Localized(rocca.EINVALID, "vpn.device.invalid_mtu", fmt.Sprintf("The VPN MTU %d is not valid: use a number from 576 to 65535 (1420 if unsure).", o.MTU), o.MTU)
	}
	seen := map[netip.Addr]bool{}
	for _, p := range o.Addresses {
		if err := validateAddress(p); err != nil {
			return err
		}
		if seen[p.Addr()] {
			return errInvalidAddress(p)
		}
		seen[p.Addr()] = true
	}
	return nil
}

// validateName accepts what Linux accepts for an interface name, restricted to a portable set of
// characters so the name is also a safe file name for the UAPI socket.
func validateName(name string) error {
	ok := len(name) >= 1 && len(name) <= 15 && name != "." && name != ".."
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			ok = false
		}
	}
	if !ok {
		return rocca.Localized(rocca.EINVALID, "vpn.device.invalid_name", fmt.Sprintf("The VPN interface name %q is not valid: use 1 to 15 letters, digits, '-', '_' or '.'.", name), name)
	}
	return nil
}

// validateAddress accepts a host address inside its subnet, e.g. 10.86.0.1/24, not the subnet
// itself (10.86.0.0/24), which is a common slip.
func validateAddress(p netip.Prefix) error {
	bad := !p.IsValid() || p.Addr().Zone() != "" || p.Addr().Is4In6() ||
		(p.Bits() < p.Addr().BitLen()-1 && p.Masked().Addr() == p.Addr())
	if bad {
		return errInvalidAddress(p)
	}
	return nil
}

func errInvalidAddress(p netip.Prefix) error {
	return rocca.Localized(rocca.EINVALID, "vpn.device.invalid_address", fmt.Sprintf("The VPN interface address %s is not valid: write the server's address with the network length, for example 10.86.0.1/24.", p), p.String())
}
