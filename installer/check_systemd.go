package installer

import "context"

// minSystemd is the oldest systemd that knows every protection the unit sets (Debian 11 has 247).
const minSystemd = 247

// checkSystemd: the service runs under systemd; without it (a container) Rocca still installs, but
// the user starts it.
func checkSystemd(_ context.Context, in Input) Result {
	s := in.Sys.Systemd()
	switch {
	case !s.Running:
		return warn("installer.check.systemd.not_running").fix("installer.fix.systemd.not_running", in.Paths.Config)
	case s.Version > 0 && s.Version < minSystemd:
		return block("installer.check.systemd.old", s.Version, minSystemd).fix("installer.fix.os.upgrade")
	}
	return ok("installer.check.systemd.ok", s.Version)
}
