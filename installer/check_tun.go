package installer

import (
	"context"

	"github.com/rocca-pa/rocca/internal/config"
)

// checkTUN: the embedded userspace WireGuard needs /dev/net/tun; the kernel module does not, nor
// does Rocca in external mode (the program that runs the interface opens it).
func checkTUN(_ context.Context, in Input) Result {
	v := in.Config.VPN
	if !v.Enabled {
		return ok("installer.check.vpn_disabled")
	}
	if v.Mode == config.VPNExternal {
		return ok("installer.check.tun.external")
	}
	err := in.Sys.TUN()
	if err == nil {
		return ok("installer.check.tun.ok")
	}
	if v.Mode != config.VPNUserspace && in.Sys.WireGuardModule() == nil {
		return warn("installer.check.tun.kernel_only", err.Error()).fix("installer.fix.tun")
	}
	return block("installer.check.tun.missing", err.Error()).fix("installer.fix.tun")
}
