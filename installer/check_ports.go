package installer

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/rocca-pa/rocca/internal/config"
)

// checkPorts tries to bind every port the configuration needs. A port held by Rocca itself (a
// re-run, or doctor on a running server) is fine, and so is the VPN port in external mode when
// the interface's own program holds it (wireguard-go, or the kernel: no process).
func checkPorts(_ context.Context, in Input) Result {
	var busy, untested []Port
	var owners []string
	for _, p := range Ports(in.Config) {
		err := in.Sys.Bind(p.Proto, p.Host, p.Port)
		switch {
		case err == nil:
		case errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission):
			untested = append(untested, p)
		default:
			owner := in.Sys.PortOwner(p.Proto, p.Port)
			switch {
			case owner == "rocca":
				continue
			case p.Key == "vpn.listen_port" && in.Config.VPN.Mode == config.VPNExternal && (owner == "wireguard-go" || owner == ""):
				continue
			case owner == "" && in.Doctor && in.Sys.EUID() != 0:
				// Without root the holder cannot be seen: most likely Rocca itself.
				untested = append(untested, p)
				continue
			}
			busy = append(busy, p)
			owners = append(owners, describe(p, owner))
		}
	}
	switch {
	case len(busy) > 0:
		return block("installer.check.ports.busy", strings.Join(owners, ", ")).fix("installer.fix.ports.busy", portNumbers(busy))
	case len(untested) > 0:
		fix := "installer.fix.privileges.sudo"
		if in.Doctor {
			fix = "installer.fix.privileges.doctor"
		}
		return warn("installer.check.ports.untested", portList(untested)).fix(fix)
	}
	return ok("installer.check.ports.ok", portList(Ports(in.Config)))
}
