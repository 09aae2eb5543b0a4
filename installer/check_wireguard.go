package installer

import (
	"context"

	"github.com/rocca-pa/rocca/internal/config"
)

// checkWireGuard: the kernel module is faster; without it Rocca falls back to the embedded
// userspace implementation, unless vpn.mode asks for the kernel only. In external mode another
// program runs the interface: it should be there, but Rocca waits for it if it is not.
func checkWireGuard(_ context.Context, in Input) Result {
	v := in.Config.VPN
	switch {
	case !v.Enabled:
		return ok("installer.check.vpn_disabled")
	case v.Mode == config.VPNUserspace:
		return ok("installer.check.wireguard.userspace")
	case v.Mode == config.VPNExternal:
		kind, err := in.Sys.WireGuardLink(v.Interface)
		if err != nil {
			return warn("installer.check.wireguard.external_missing", v.Interface, err.Error()).fix("installer.fix.wireguard.external", v.Interface, v.Interface)
		}
		return ok("installer.check.wireguard.external", v.Interface, kind)
	}
	err := in.Sys.WireGuardModule()
	switch {
	case err == nil:
		return ok("installer.check.wireguard.ok")
	case v.Mode == config.VPNKernel:
		return block("installer.check.wireguard.kernel_required", err.Error()).fix("installer.fix.wireguard.kernel_required")
	}
	return warn("installer.check.wireguard.fallback", err.Error()).fix("installer.fix.wireguard.fallback")
}
