package main

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/rocca-pa/rocca/internal/config"
)

func (c *cli) cmdConfig(args []string) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(c.stdout, c.t("cli.usage.config_check"))
			return exitOK
		}
		fmt.Fprintln(c.stderr, c.t("cli.usage.config_check"))
		return exitUsage
	}
	fs := c.flags("config check", "cli.usage.config_check")
	if code, stop := c.parse(fs, args[1:]); stop {
		return code
	}
	path := c.configPath
	switch fs.NArg() {
	case 0:
	case 1:
		path = fs.Arg(0)
	default:
		return c.usageError(fs, "cli.error.one_file")
	}
	vpnIface := config.Default().VPN.Interface
	if cfg, _ := config.Parse(path, nil, c.env); cfg != nil {
		vpnIface = cfg.VPN.Interface
	}
	_, problems := config.Check(path, c.env, localRoutes(vpnIface))
	errorsFound := 0
	for _, p := range problems {
		fmt.Fprintln(c.stderr, p.Text(c.cat, c.lang))
		if p.Severity == config.SeverityError {
			errorsFound++
		}
	}
	if errorsFound > 0 {
		fmt.Fprintln(c.stderr, c.t("cli.config.invalid", path, errorsFound))
		return exitError
	}
	fmt.Fprintln(c.stdout, c.t("cli.config.valid", path))
	return exitOK
}

// localRoutes lists this host's IPv4 routes (except the default route and those of our own VPN
// interface), so that config check can warn when the VPN subnet overlaps a network the server
// already reaches.
func localRoutes(vpnIface string) []netip.Prefix {
	own := -1
	if l, err := netlink.LinkByName(vpnIface); err == nil {
		own = l.Attrs().Index
	}
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil || r.LinkIndex == own {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		if addr, ok := netip.AddrFromSlice(r.Dst.IP.To4()); ok && ones > 0 {
			out = append(out, netip.PrefixFrom(addr, ones))
		}
	}
	return out
}
