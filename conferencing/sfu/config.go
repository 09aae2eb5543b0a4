package sfu

import (
	"crypto/tls"
	"fmt"
	"net"
)

// Config is the transport configuration of the SFU. The zero value is not usable: UDPPort must be
// set (0 is accepted and picks a free port, which tests use).
type Config struct {
	// UDPPort carries all media of all participants (ICE UDP mux). ICE-TCP listens on the same
	// port number over TCP as a fallback for networks that block UDP.
	UDPPort int
	// DisableTCP turns the ICE-TCP fallback off.
	DisableTCP bool
	// PublicIP is the address clients reach when the server sits behind a 1:1 NAT (cloud VMs).
	// It is advertised as an extra host candidate next to the local ones, and as the TURN relay
	// address.
	PublicIP string
	// Interfaces limits the network interfaces used for media (names such as "eth0"); empty means
	// all.
	Interfaces []string
	// IncludeLoopback also offers 127.0.0.1 and ::1 candidates (tests and single-host setups).
	IncludeLoopback bool
	// IPv4Only skips IPv6 addresses.
	IPv4Only bool

	// TURNSecret enables the embedded TURN server; credentials are HMAC-SHA1 of it (TURN REST
	// style, see TURNCredentials). Keep it secret: never log it.
	TURNSecret []byte
	// TURNPort is the UDP and TCP port of the TURN server (0 picks a free port when TURN is on).
	TURNPort int
	// TURNHost is the name or address clients use to reach TURN; default: PublicIP, else the
	// first address of the media interfaces.
	TURNHost string
	// TURNRealm is the TURN realm (default "rocca").
	TURNRealm string
	// TURNTLS, when set, also serves TURN over TLS on TURNTLSPort (turns: URLs).
	TURNTLS     *tls.Config
	TURNTLSPort int
	// TURNRelayMinPort and TURNRelayMaxPort bound the UDP ports of relay allocations (for
	// firewalls); both 0 means ephemeral ports.
	TURNRelayMinPort, TURNRelayMaxPort int

	// MaxBitrate caps what one subscriber receives, in bits per second (0: only the estimate
	// limits it).
	MaxBitrate int
}

// Validate reports the first problem of c.
func (c Config) Validate() error {
	if c.UDPPort < 0 || c.UDPPort > 65535 {
		return fmt.Errorf("udp port %d out of range", c.UDPPort)
	}
	if c.PublicIP != "" && net.ParseIP(c.PublicIP) == nil {
		return fmt.Errorf("public ip %q is not an IP address", c.PublicIP)
	}
	if len(c.TURNSecret) > 0 {
		if len(c.TURNSecret) < 16 {
			return fmt.Errorf("turn secret too short: at least 16 bytes")
		}
		if c.TURNPort < 0 || c.TURNPort > 65535 {
			return fmt.Errorf("turn port %d out of range", c.TURNPort)
		}
		if c.TURNPort != 0 && c.TURNPort == c.UDPPort {
			return fmt.Errorf("turn port and media port are both %d", c.TURNPort)
		}
		if c.TURNTLS != nil && (c.TURNTLSPort <= 0 || c.TURNTLSPort > 65535) {
			return fmt.Errorf("turn tls port %d out of range", c.TURNTLSPort)
		}
		if c.TURNRelayMinPort < 0 || c.TURNRelayMaxPort > 65535 || c.TURNRelayMinPort > c.TURNRelayMaxPort {
			return fmt.Errorf("turn relay port range %d-%d invalid", c.TURNRelayMinPort, c.TURNRelayMaxPort)
		}
	}
	if c.MaxBitrate < 0 {
		return fmt.Errorf("max bitrate %d negative", c.MaxBitrate)
	}
	return nil
}

// keepInterface is the interface filter shared by ICE and the UDP mux.
func (c Config) keepInterface(name string) bool {
	if len(c.Interfaces) == 0 {
		return true
	}
	for _, n := range c.Interfaces {
		if n == name {
			return true
		}
	}
	return false
}

// localIPs lists the addresses of the media interfaces, non-loopback first.
func (c Config) localIPs() []net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var ips, loop []net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || !c.keepInterface(ifc.Name) {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() || (c.IPv4Only && ipn.IP.To4() == nil) {
				continue
			}
			if ipn.IP.IsLoopback() {
				if c.IncludeLoopback {
					loop = append(loop, ipn.IP)
				}
				continue
			}
			ips = append(ips, ipn.IP)
		}
	}
	return append(ips, loop...)
}
