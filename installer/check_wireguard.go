package installer

import (
	"context"

	"github.com/rocca-pa/rocca/internal/config"
)

// checkWireGuard: the kernel module is faster; without it Rocca falls back to the embedded
// userspace implementation, unless vpn.mode asks for the kernel only.
func checkWireGuard(_ context.Context, in Input) Result {
	v := in.Config.VPN
	switch {
	case !v.Enabled:
		return ok("installer.check.vpn_disabled")
	case v.Mode == config.VPNUserspace:
		return ok("installer.check.wireguard.userspace")
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
