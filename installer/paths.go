package installer

import "path/filepath"

// Paths are where an installation lives. A real install uses the system paths; with a prefix every
// path moves under it (for tests and packagers) and the files written name the prefixed paths, so
// the result runs in place.
type Paths struct {
	Prefix  string // "" for a real install
	Config  string // /etc/rocca/rocca.toml
	EtcDir  string // /etc/rocca: the config and the mail password files
	DataDir string // /var/lib/rocca
	Unit    string // /etc/systemd/system/rocca.service
	Binary  string // /usr/local/bin/rocca
	Sysctl  string // /etc/sysctl.d/90-rocca.conf: IPv4 forwarding for the VPN
}

// ServiceUser is the system account the service runs as.
const ServiceUser = "rocca"

// UnitName is the systemd unit of the service.
const UnitName = "rocca.service"

// NewPaths returns the paths of an installation under prefix ("" for the real system).
func NewPaths(prefix string) Paths {
	at := func(p string) string {
		if prefix == "" {
			return p
		}
		return filepath.Join(prefix, p)
	}
	return Paths{
		Prefix:  prefix,
		Config:  at("/etc/rocca/rocca.toml"),
		EtcDir:  at("/etc/rocca"),
		DataDir: at("/var/lib/rocca"),
		Unit:    at("/etc/systemd/system/" + UnitName),
		Binary:  at("/usr/local/bin/rocca"),
		Sysctl:  at("/etc/sysctl.d/90-rocca.conf"),
	}
}

// IMAPPasswordFile is where the wizard keeps the helpdesk mailbox password.
func (p Paths) IMAPPasswordFile() string { return filepath.Join(p.EtcDir, "imap.password") }

// SMTPPasswordFile is where the wizard keeps the outbound mail password.
func (p Paths) SMTPPasswordFile() string { return filepath.Join(p.EtcDir, "smtp.password") }

// OAuth2SecretFile is where the wizard keeps the client secret of the helpdesk mailbox's OAuth2
// application.
func (p Paths) OAuth2SecretFile() string { return filepath.Join(p.EtcDir, "oauth2-client.secret") }

// System reports whether this is a real install, which creates the service user, changes owners
// and talks to systemd; an install under a prefix does none of these.
func (p Paths) System() bool { return p.Prefix == "" }
