package installer

import "context"

// checkPrivileges: installing writes /etc, creates a system user and talks to systemd, so it needs
// root; under --prefix it does none of these, and doctor only reads.
func checkPrivileges(_ context.Context, in Input) Result {
	switch {
	case in.Sys.EUID() == 0:
		return ok("installer.check.privileges.ok")
	case in.Doctor:
		return warn("installer.check.privileges.doctor").fix("installer.fix.privileges.doctor")
	case !in.Paths.System():
		return warn("installer.check.privileges.prefix", in.Paths.Prefix)
	}
	return block("installer.check.privileges.not_root").fix("installer.fix.privileges.sudo")
}
