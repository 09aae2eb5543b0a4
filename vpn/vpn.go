package vpn

import (
	"embed"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed templates/*.html
var templateFiles embed.FS

// Migrations returns the schema of this package (part "vpn": the vpn_ tables). It refers to
// users(id), so auth's migrations must run first.
func Migrations() sqlite.Migrations {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // embedded at build time: a build bug
	}
	return sqlite.Migrations{Part: "vpn", FS: sub}
}

// The modes of Config.Mode (as in [vpn] mode).
const (
	ModeAuto      = "auto"
	ModeKernel    = "kernel"
	ModeUserspace = "userspace"
	// ModeExternal drives an interface another program creates and runs (wg-quick,
	// systemd-networkd, a wireguard-go service): Rocca configures it but never creates or deletes
	// it, so restarting Rocca never cuts a tunnel.
	ModeExternal = "external"
)

// Defaults of Config.
const (
	DefaultMTU       = 1420
	DefaultHoldBack  = 24 * time.Hour   // a released address is not given out again before this
	DefaultReconcile = 10 * time.Second // the device matches the database within this (and one apply)
	// OnlineWindow is how recent the last handshake must be for a device to count as online:
	// WireGuard re-handshakes every two minutes while traffic flows.
	OnlineWindow = 180 * time.Second
)

// Config is the [vpn] section as plain values (cmd/rocca copies them from the config file) plus
// what the part needs from [server], [municipality] and [mail].
type Config struct {
	Interface  string   // e.g. "rocca0"
	Mode       string   // auto | kernel | userspace | external
	ListenPort int      // UDP
	Subnet     string   // IPv4 CIDR, e.g. "10.86.0.0/24"; the server takes the first address
	Endpoint   string   // host:port devices dial (config.VPNEndpoint())
	DNS        []string // DNS servers for the devices; empty: the device's own
	LAN        []string // ranges reachable in the "rete comunale" preset
	MTU        int      // 0 means DefaultMTU
	Keepalive  int      // seconds; 0 turns PersistentKeepalive off

	DataDir      string // keys live in <DataDir>/keys
	PublicURL    string // base of one-time links, e.g. "https://rocca.comune.example.it"
	MailFrom     string // From of the e-mails with links, e.g. "Helpdesk <helpdesk@comune.example.it>"
	Municipality string

	HoldBack  time.Duration // 0 means DefaultHoldBack
	Reconcile time.Duration // 0 means DefaultReconcile; at most 30 s
}

// network is Config parsed.
type network struct {
	subnet netip.Prefix
	server netip.Addr // the first address of the subnet
	dns    []netip.Addr
	lan    []netip.Prefix
}

func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeAuto
	}
	if c.MTU == 0 {
		c.MTU = DefaultMTU
	}
	if c.HoldBack == 0 {
		c.HoldBack = DefaultHoldBack
	}
	if c.Reconcile == 0 {
		c.Reconcile = DefaultReconcile
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c
}

// Validate reports the first wrong value as a user error naming the [vpn] key.
func (c Config) Validate() error {
	_, err := c.withDefaults().parse()
	return err
}

func (c Config) parse() (network, error) {
	var n network
	if !validInterface(c.Interface) {
		return n, rocca.Localized(rocca.EINVALID, "vpn.config.interface", fmt.Sprintf("vpn.interface %q is not a valid interface name: use 1 to 15 letters, digits, '-', '_' or '.'", c.Interface), c.Interface)
	}
	switch c.Mode {
	case ModeAuto, ModeKernel, ModeUserspace, ModeExternal:
	default:
		return n, rocca.Localized(rocca.EINVALID, "vpn.config.mode", fmt.Sprintf("vpn.mode %q is not valid: use auto, kernel, userspace or external.", c.Mode), c.Mode)
	}
	if c.ListenPort < 1 || c.ListenPort > 65535 {
		return n, rocca.Localized(rocca.EINVALID, "vpn.config.port", fmt.Sprintf("vpn.listen_port %d is not valid: use a number from 1 to 65535", c.ListenPort), c.ListenPort)
	}
	p, err := netip.ParsePrefix(c.Subnet)
	if err != nil || !p.Addr().Is4() || p.Bits() < 16 || p.Bits() > 30 || p.Masked() != p {
		return n, rocca.Localized(rocca.EINVALID, "vpn.config.subnet", fmt.Sprintf("vpn.subnet %q is not valid: write an IPv4 network from /16 to /30, for example 10.86.0.0/24", c.Subnet), c.Subnet)
	}
	n.subnet, n.server = p, p.Addr().Next()
	if host, port, err := net.SplitHostPort(c.Endpoint); err != nil || host == "" || !validPort(port) {
		return n, rocca.Localized(rocca.EINVALID, "vpn.config.endpoint", fmt.Sprintf("vpn.endpoint %q is not valid: write the public name and port devices dial, for example vpn.comune.example.it:51820", c.Endpoint), c.Endpoint)
	}
	for _, d := range c.DNS {
		a, err := netip.ParseAddr(strings.TrimSpace(d))
		if err != nil {
			return n, rocca.Localized(rocca.EINVALID, "vpn.config.dns", fmt.Sprintf("vpn.dns %q is not an IP address", d), d)
		}
		n.dns = append(n.dns, a)
	}
	for _, l := range c.LAN {
		lp, err := netip.ParsePrefix(strings.TrimSpace(l))
		if err != nil || !lp.Addr().Is4() {
			return n, rocca.Localized(rocca.EINVALID, "vpn.config.lan", fmt.Sprintf("vpn.lan %q is not an IPv4 network such as 192.168.1.0/24", l), l)
		}
		n.lan = append(n.lan, lp.Masked())
	}
	if c.MTU < 1280 || c.MTU > 1500 {
		return n, rocca.Localized(rocca.EINVALID, "vpn.config.mtu", fmt.Sprintf("vpn.mtu %d is not valid: use a number from 1280 to 1500 (1420 if unsure)", c.MTU), c.MTU)
	}
	if c.Keepalive < 0 || c.Keepalive > 3600 {
		return n, rocca.Localized(rocca.EINVALID, "vpn.config.keepalive", fmt.Sprintf("vpn.keepalive %d is not valid: use 0 to 3600 seconds", c.Keepalive), c.Keepalive)
	}
	if c.DataDir == "" {
		return n, rocca.Localized(rocca.EINVALID, "vpn.config.data_dir", "server.data_dir is empty: the VPN keeps its keys there")
	}
	if c.Reconcile < 0 || c.Reconcile > 30*time.Second || c.HoldBack < 0 {
		return n, fmt.Errorf("vpn config: reconcile interval %s or hold-back %s out of range", c.Reconcile, c.HoldBack)
	}
	return n, nil
}

func validInterface(name string) bool {
	if len(name) < 1 || len(name) > 15 || name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return false
		}
	}
	return true
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

// keyPath is where a key file of this part lives.
func (c Config) keyPath(name string) string { return filepath.Join(c.DataDir, "keys", name) }

// Key file names inside <data_dir>/keys (part of backups, 0600).
const (
	serverKeyFile = "vpn-server.key"
	pskKeyFile    = "vpn-psk.key"
)
