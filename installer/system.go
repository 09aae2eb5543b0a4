package installer

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// System is what the checks and the steps ask of the machine. Host is the real one; the tests use a
// fake, so that every check can be shown OK, AVVISO and BLOCCO without changing the machine.
type System interface {
	Now() time.Time
	OS() OSInfo
	EUID() int
	Systemd() SystemdInfo
	// TUN returns nil when /dev/net/tun exists and is a character device.
	TUN() error
	// WireGuardModule returns nil when the kernel has WireGuard (loaded, built in or loadable).
	WireGuardModule() error
	// WireGuardLink reports whether name is a WireGuard interface another program runs (for
	// vpn.mode = "external"): its kind, "kernel" or "wireguard-go", or why it is not usable.
	WireGuardLink(name string) (kind string, err error)
	// Bind tries to listen on host:port ("tcp" or "udp"; host "" means every address) and releases
	// the port at once.
	Bind(proto, host string, port int) error
	// PortOwner names the process holding a port, or "" when it cannot tell.
	PortOwner(proto string, port int) string
	Firewall() FirewallInfo
	TimeSync() TimeSyncInfo
	// DiskFree returns the bytes available to unprivileged users on the file system of path (or of
	// its nearest existing parent).
	DiskFree(path string) (uint64, error)
	// Memory returns the total memory in bytes.
	Memory() (uint64, error)
	// Routes returns the IPv4 routes of the host.
	Routes() ([]Route, error)
	// Addrs returns the addresses of the host's interfaces, with their network.
	Addrs() ([]Addr, error)
	// Hostname returns the fully qualified host name, or the short one.
	Hostname() string
	LookupHost(ctx context.Context, host string) ([]netip.Addr, error)
	// Dial connects to a mail server; only to the hosts the user named.
	Dial(ctx context.Context, network, address string) (net.Conn, error)
	// LookupUser returns the uid and gid of a system account, or an error when it does not exist.
	LookupUser(name string) (uid, gid int, err error)
	// Command runs a program (useradd, systemctl) and returns its combined output.
	Command(ctx context.Context, name string, args ...string) ([]byte, error)
	// HasCommand reports whether a program is on the PATH.
	HasCommand(name string) bool
}

// OSInfo describes the operating system (from runtime and /etc/os-release).
type OSInfo struct {
	GOOS      string // "linux"
	Arch      string // "amd64"
	ID        string // os-release ID: "debian", "ubuntu"
	VersionID string // os-release VERSION_ID: "12", "24.04"
	Pretty    string // os-release PRETTY_NAME
	Kernel    string // uname release: "6.1.0-18-amd64"
}

// SystemdInfo says whether systemd runs this machine.
type SystemdInfo struct {
	Running bool // PID 1 is systemd (/run/systemd/system exists)
	Version int  // from `systemctl --version`; 0 when unknown
}

// FirewallInfo says which firewalls are active.
type FirewallInfo struct {
	UFW       bool  // ufw is enabled
	Firewalld bool  // firewalld is running
	NftDrop   bool  // an nftables input chain drops by default (a hand-written ruleset)
	NftErr    error // nil when Rocca can manage nftables rules (needed for VPN access to the LAN)
}

// TimeSyncInfo says whether the clock is kept in time.
type TimeSyncInfo struct {
	Known        bool   // a time service answered
	Synchronized bool   // the clock is synchronised
	Source       string // "systemd-timesyncd", "chrony", …
}

// Route is one IPv4 route.
type Route struct {
	Dst   netip.Prefix
	Iface string
}

// Addr is one address of an interface, with its network (e.g. 192.168.1.10/24).
type Addr struct {
	Iface  string
	Prefix netip.Prefix
}
