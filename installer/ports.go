package installer

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca/internal/config"
)

// Port is one port the configuration makes Rocca listen on.
type Port struct {
	Proto  string // "tcp" or "udp"
	Host   string // the address bound; "" means every address
	Port   int
	Key    string // the config key that sets it
	Public bool   // must be reachable from outside: open it in firewalls and forward it on the router
}

// String is "TCP 443".
func (p Port) String() string { return strings.ToUpper(p.Proto) + " " + strconv.Itoa(p.Port) }

// Ports lists the ports cfg listens on, the public ones first in a fixed order.
func Ports(cfg *config.Config) []Port {
	var ps []Port
	if host, port, ok := hostPort(cfg.Server.Listen); ok {
		ps = append(ps, Port{"tcp", host, port, "server.listen", !isLoopbackHost(host)})
	}
	if cfg.Server.TLS == config.TLSACME {
		ps = append(ps, Port{"tcp", "", 80, "server.tls", true}) // HTTP-01 challenges
	}
	if cfg.VPN.Enabled {
		ps = append(ps, Port{"udp", "", cfg.VPN.ListenPort, "vpn.listen_port", true})
	}
	if cfg.Meetings.Enabled {
		m := cfg.Meetings
		ps = append(ps, Port{"udp", "", m.UDPPort, "meetings.udp_port", true}, Port{"tcp", "", m.UDPPort, "meetings.udp_port", true},
			Port{"udp", "", m.TURNPort, "meetings.turn_port", true}, Port{"tcp", "", m.TURNPort, "meetings.turn_port", true})
	}
	if host, port, ok := hostPort(cfg.Server.MetricsListen); ok {
		ps = append(ps, Port{"tcp", host, port, "server.metrics_listen", false})
	}
	return ps
}

// PublicPorts are the ports to open in firewalls and on the router.
func PublicPorts(cfg *config.Config) []Port {
	var out []Port
	for _, p := range Ports(cfg) {
		if p.Public {
			out = append(out, p)
		}
	}
	return out
}

func hostPort(s string) (string, int, bool) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(p)
	return host, n, err == nil && n > 0 && n < 65536
}

func isLoopbackHost(host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.IsLoopback()
	}
	return strings.EqualFold(host, "localhost")
}

// portList renders ports as "TCP 443, UDP 51820".
func portList(ps []Port) string {
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}

// portNumbers renders the distinct numbers of ps as "443|51820", for a grep pattern.
func portNumbers(ps []Port) string {
	var nums []string
	seen := map[int]bool{}
	for _, p := range ps {
		if !seen[p.Port] {
			seen[p.Port] = true
			nums = append(nums, strconv.Itoa(p.Port))
		}
	}
	return strings.Join(nums, "|")
}

// describe is "TCP 443 (nginx)" or "TCP 443".
func describe(p Port, owner string) string {
	if owner == "" {
		return p.String()
	}
	return fmt.Sprintf("%s (%s)", p, owner)
}
