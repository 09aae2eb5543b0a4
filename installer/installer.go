package installer

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// Installer holds what every step needs: the machine, where to install, the catalog and a logger.
type Installer struct {
	Sys    System
	Paths  Paths
	Cat    *i18n.Catalog
	Logger *slog.Logger
	// Exe is the binary to install at Paths.Binary; "" means the running one.
	Exe string
	// HealthTimeout bounds the wait for /healthz after starting the service; 0 means 90 s.
	HealthTimeout time.Duration
}

// New returns an installer for sys under paths.
func New(sys System, paths Paths, cat *i18n.Catalog, logger *slog.Logger) (*Installer, error) {
	if sys == nil || cat == nil || logger == nil {
		return nil, errors.New("installer: a system, a catalog and a logger are required")
	}
	return &Installer{Sys: sys, Paths: paths, Cat: cat, Logger: logger.With("part", "installer")}, nil
}

// Input returns the preflight input for answers a (before they are installed).
func (in *Installer) Input(a *Answers) Input {
	return Input{Sys: in.Sys, Config: a.Config, Paths: in.Paths, IMAPPassword: a.IMAPPassword, SMTPPassword: a.SMTPPassword}
}

// Routes returns the host's IPv4 networks, except the default route and those of the VPN
// interface iface, for config validation (the VPN subnet must not overlap them).
func (in *Installer) Routes(iface string) []netip.Prefix {
	routes, _ := in.Sys.Routes()
	var out []netip.Prefix
	for _, r := range routes {
		if r.Iface != iface && r.Dst.Bits() > 0 {
			out = append(out, r.Dst)
		}
	}
	return out
}

func (in *Installer) exe() (string, error) {
	if in.Exe != "" {
		return in.Exe, nil
	}
	return os.Executable()
}

func (in *Installer) healthTimeout() time.Duration {
	if in.HealthTimeout > 0 {
		return in.HealthTimeout
	}
	return 90 * time.Second
}
