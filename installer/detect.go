package installer

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// Defaults proposes the answers: those of the installed configuration when there is one (so that
// pressing Enter everywhere changes nothing), otherwise values detected on this machine — its host
// name, a VPN subnet that clashes with none of its networks, its LAN ranges and its public address.
func (in *Installer) Defaults(ctx context.Context) (a *Answers, installed bool) {
	if cfg, err := config.Load(in.Paths.Config, nil); err == nil {
		return &Answers{Config: cfg, Admin: in.existingAdmin(ctx, cfg)}, true
	}
	cfg := config.Default()
	host := in.Sys.Hostname()
	addrs, _ := in.Sys.Addrs()
	routes, _ := in.Sys.Routes()
	cfg.Server.DataDir = in.Paths.DataDir
	cfg.Server.Listen = ":443"
	cfg.Server.TLS = TLSFor(host)
	cfg.Server.PublicURL = "https://" + host
	cfg.Municipality.Name = MunicipalityFrom(host)
	subnet := ProposeSubnet(24, takenPrefixes(addrs, routes, cfg.VPN.Interface))
	cfg.VPN.Subnet = subnet.String()
	cfg.VPN.LAN = detectLAN(addrs, routes, subnet, cfg.VPN.Interface)
	cfg.Meetings.PublicIP = PublicIP(addrs)
	return &Answers{Config: cfg}, false
}

// existingAdmin is the first enabled administrator of an installed database, if any.
func (in *Installer) existingAdmin(ctx context.Context, cfg *config.Config) config.Admin {
	if !exists(cfg.DatabasePath()) {
		return config.Admin{}
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return config.Admin{}
	}
	defer db.Close()
	svc, err := newAuth(&Plan{inst: in, answers: &Answers{Config: cfg}}, db)
	if err != nil {
		return config.Admin{}
	}
	users, err := svc.Users(ctx)
	if err != nil {
		return config.Admin{}
	}
	for _, u := range users {
		if u.Role == rocca.RoleAdmin && !u.Disabled {
			return config.Admin{Email: u.Email, Name: u.Name}
		}
	}
	return config.Admin{}
}

// TLSFor proposes ACME for a public DNS name and a self-signed certificate otherwise.
func TLSFor(host string) config.TLSMode {
	h := strings.ToLower(host)
	if _, err := netip.ParseAddr(h); err == nil || !strings.Contains(h, ".") {
		return config.TLSSelfSigned
	}
	for _, local := range []string{".local", ".lan", ".localdomain", ".internal", ".home", ".localhost", ".intranet"} {
		if strings.HasSuffix(h, local) {
			return config.TLSSelfSigned
		}
	}
	return config.TLSACME
}

// MunicipalityFrom reads "Comune di Ponte San Pietro" out of a name like
// rocca.comune.ponte-san-pietro.bg.it; "" when the name says nothing.
func MunicipalityFrom(host string) string {
	labels := strings.Split(strings.ToLower(host), ".")
	i := slices.Index(labels, "comune")
	if i < 0 || i+1 >= len(labels) {
		return ""
	}
	words := strings.FieldsFunc(labels[i+1], func(r rune) bool { return r == '-' || r == '_' })
	for j, w := range words {
		words[j] = strings.ToUpper(w[:1]) + w[1:]
	}
	return "Comune di " + strings.Join(words, " ")
}

// PublicIP is the first public IPv4 address of an interface, or "" (behind NAT).
func PublicIP(addrs []Addr) string {
	shared := netip.MustParsePrefix("100.64.0.0/10")
	for _, a := range addrs {
		ip := a.Prefix.Addr()
		if ip.Is4() && ip.IsGlobalUnicast() && !ip.IsPrivate() && !shared.Contains(ip) {
			return ip.String()
		}
	}
	return ""
}

// detectLAN lists the private IPv4 networks this host is on or routes to (not the default route,
// not container bridges, not the VPN): what VPN devices most likely need to reach.
func detectLAN(addrs []Addr, routes []Route, vpn netip.Prefix, vpnIface string) []string {
	var lan []string
	add := func(iface string, p netip.Prefix) {
		p = p.Masked()
		if iface == vpnIface || virtualIface(iface) || !p.Addr().Is4() || !p.Addr().IsPrivate() || p.Bits() == 0 ||
			p.Overlaps(vpn) || slices.Contains(lan, p.String()) {
			return
		}
		lan = append(lan, p.String())
	}
	for _, a := range addrs {
		add(a.Iface, a.Prefix)
	}
	for _, r := range routes {
		add(r.Iface, r.Dst)
	}
	return lan
}

// virtualIface reports interfaces of containers and virtual machines on this host.
func virtualIface(name string) bool {
	for _, p := range []string{"docker", "br-", "virbr", "lxcbr", "lxdbr", "veth", "cni", "flannel", "podman", "lo"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
