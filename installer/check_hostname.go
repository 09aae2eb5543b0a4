package installer

import (
	"context"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rocca-pa/rocca/internal/config"
)

// checkHostname: the public host name should resolve to this machine (or to its public address,
// behind NAT). ACME cannot issue a certificate for a name that does not resolve at all.
func checkHostname(ctx context.Context, in Input) Result {
	u, err := url.Parse(in.Config.Server.PublicURL)
	if err != nil || u.Hostname() == "" {
		return block("installer.check.hostname.no_host", in.Config.Server.PublicURL).fix("installer.fix.hostname.url")
	}
	host := u.Hostname()
	local := localAddrs(in)
	if a, err := netip.ParseAddr(host); err == nil {
		if slices.Contains(local, a.Unmap()) {
			return ok("installer.check.hostname.ok", host, a.String())
		}
		return warn("installer.check.hostname.ip_elsewhere", host).fix("installer.fix.hostname.nat", host)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := in.Sys.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		r := warn("installer.check.hostname.unresolved", host)
		if in.Config.Server.TLS == config.TLSACME {
			r = block("installer.check.hostname.unresolved_acme", host)
		}
		return r.fix("installer.fix.hostname.dns", host, firstPublic(local))
	}
	for _, a := range addrs {
		if slices.Contains(local, a.Unmap()) {
			return ok("installer.check.hostname.ok", host, a.Unmap().String())
		}
	}
	return warn("installer.check.hostname.elsewhere", host, joinAddrs(addrs)).fix("installer.fix.hostname.nat", host)
}

// localAddrs are the addresses of this machine: its interfaces and the public address it was told.
func localAddrs(in Input) []netip.Addr {
	addrs, _ := in.Sys.Addrs()
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, a.Prefix.Addr().Unmap())
	}
	if a, err := netip.ParseAddr(in.Config.Meetings.PublicIP); err == nil {
		out = append(out, a.Unmap())
	}
	return out
}

// firstPublic is the first global address among addrs, or a placeholder to replace.
func firstPublic(addrs []netip.Addr) string {
	for _, a := range addrs {
		if a.Is4() && a.IsGlobalUnicast() && !a.IsPrivate() {
			return a.String()
		}
	}
	return "<IP>"
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, 0, len(addrs))
	for _, a := range addrs {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}
