package installer

import (
	"context"
	"fmt"
	"strings"
)

// checkFirewall finds an active firewall and gives the commands that open Rocca's ports in it. Two
// firewall managers at once fight over the rules; and without nftables Rocca cannot route VPN
// devices to the LAN.
func checkFirewall(_ context.Context, in Input) Result {
	fw := in.Sys.Firewall()
	public := PublicPorts(in.Config)
	switch {
	case fw.UFW && fw.Firewalld:
		return block("installer.check.firewall.two").fix("installer.fix.firewall.two")
	case in.Config.VPN.Enabled && len(in.Config.VPN.LAN) > 0 && fw.NftErr != nil:
		return block("installer.check.firewall.no_nftables", fw.NftErr.Error()).fix("installer.fix.firewall.no_nftables")
	case len(public) == 0:
		return ok("installer.check.firewall.nothing_public")
	case fw.UFW:
		return warn("installer.check.firewall.active", "ufw", portList(public)).fix("installer.fix.firewall.commands", ufwCommands(public))
	case fw.Firewalld:
		return warn("installer.check.firewall.active", "firewalld", portList(public)).fix("installer.fix.firewall.commands", firewalldCommands(public))
	case fw.NftDrop:
		return warn("installer.check.firewall.active", "nftables", portList(public)).fix("installer.fix.firewall.commands", nftCommands(public))
	}
	return ok("installer.check.firewall.none", portList(public))
}

func ufwCommands(ps []Port) string {
	var lines []string
	for _, p := range ps {
		lines = append(lines, fmt.Sprintf("ufw allow %d/%s", p.Port, p.Proto))
	}
	return strings.Join(lines, "\n")
}

func firewalldCommands(ps []Port) string {
	var lines []string
	for _, p := range ps {
		lines = append(lines, fmt.Sprintf("firewall-cmd --permanent --add-port=%d/%s", p.Port, p.Proto))
	}
	return strings.Join(append(lines, "firewall-cmd --reload"), "\n")
}

func nftCommands(ps []Port) string {
	var lines []string
	for _, p := range ps {
		lines = append(lines, fmt.Sprintf("nft add rule inet filter input %s dport %d accept", p.Proto, p.Port))
	}
	return strings.Join(lines, "\n")
}
