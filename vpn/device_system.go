package vpn

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/rocca-pa/rocca/vpn/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// SystemDevice returns the seams backed by this host, through package vpn/device: the interface
// cfg.Interface in cfg.Mode with the server's address, IPv4 forwarding turned on, and the nftables
// table that filters and masquerades the devices' traffic. cmd/rocca passes both to New.
func SystemDevice(cfg Config, logger *slog.Logger) (OpenDevice, Firewall, error) {
	cfg = cfg.withDefaults()
	n, err := cfg.parse()
	if err != nil {
		return nil, nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	open := func(ctx context.Context, key wgtypes.Key) (Device, error) {
		d, err := device.Open(ctx, device.Options{
			Name: cfg.Interface, Mode: cfg.Mode, ListenPort: cfg.ListenPort, PrivateKey: key,
			Addresses: []netip.Prefix{netip.PrefixFrom(n.server, n.subnet.Bits())}, MTU: cfg.MTU,
		}, logger.With("part", "vpn"))
		if err != nil {
			return nil, err
		}
		if err := device.EnableIPv4Forwarding(); err != nil {
			d.Close()
			return nil, err
		}
		return d, nil
	}
	return open, systemFirewall{iface: cfg.Interface, subnet: n.subnet}, nil
}

// systemFirewall installs the rules in the nftables table of vpn/device, masquerading the
// devices' traffic so that hosts on the LAN need no route back to the VPN.
type systemFirewall struct {
	iface  string
	subnet netip.Prefix
}

func (f systemFirewall) ApplyFirewall(ctx context.Context, p device.Policy) error {
	return device.ApplyFirewall(ctx, f.iface, f.subnet, p, true)
}

func (f systemFirewall) UpdateFirewallSets(ctx context.Context, changes []device.SetChange) error {
	return device.UpdateFirewallSets(ctx, changes)
}

func (f systemFirewall) FirewallPresent(ctx context.Context) (bool, error) {
	return device.FirewallPresent(ctx)
}
