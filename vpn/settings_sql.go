package vpn

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
)

// The presets of what a device sends through the tunnel (AllowedIPs of its configuration).
const (
	PresetLAN    = "lan"    // "rete comunale": the VPN and the configured LAN ranges (split tunnel)
	PresetAll    = "all"    // "tutto il traffico": everything
	PresetCustom = "custom" // the ranges in Settings.CustomRanges
)

// Settings are the VPN policies an administrator changes in the web pages.
type Settings struct {
	Preset       string         `json:"preset"`
	CustomRanges []netip.Prefix `json:"custom_ranges,omitempty"`
	SearchDomain string         `json:"search_domain,omitempty"`
	SelfService  bool           `json:"self_service"` // employees may create their own devices
	MaxDevices   int            `json:"max_devices"`  // live devices per employee (self-service)
	UsePSK       bool           `json:"preshared_keys"`
	LinkHours    int            `json:"link_hours"`   // lifetime of one-time links
	DefaultDays  int            `json:"default_days"` // lifetime of self-service devices; 0 = none
	LogDays      int            `json:"log_days"`     // retention of the connection log
}

// Validate checks the settings; errors name the field.
func (s Settings) Validate() error {
	switch s.Preset {
	case PresetLAN, PresetAll:
	case PresetCustom:
		if len(s.CustomRanges) == 0 {
			return rocca.Localized(rocca.EINVALID, "vpn.error.custom_empty", "the custom preset needs at least one network, for example 192.168.10.0/24")
		}
	default:
		return rocca.Localized(rocca.EINVALID, "vpn.error.preset", "choose what the devices send through the VPN")
	}
	for _, p := range s.CustomRanges {
		if !p.IsValid() || !p.Addr().Is4() {
			return rocca.Localized(rocca.EINVALID, "vpn.error.range", fmt.Sprintf("%s is not an IPv4 network such as 192.168.1.0/24", p), p.String())
		}
	}
	if s.SearchDomain != "" && !validDomain(s.SearchDomain) {
		return rocca.Localized(rocca.EINVALID, "vpn.error.search_domain", fmt.Sprintf("%q is not a domain name such as comune.local", s.SearchDomain), s.SearchDomain)
	}
	if s.MaxDevices < 1 || s.MaxDevices > 100 {
		return rocca.Localized(rocca.EINVALID, "vpn.error.max_devices", "the devices per employee must be from 1 to 100")
	}
	if s.LinkHours < 1 || s.LinkHours > 24*30 {
		return rocca.Localized(rocca.EINVALID, "vpn.error.link_hours", "one-time links must last from 1 to 720 hours")
	}
	if s.DefaultDays < 0 || s.DefaultDays > 3650 {
		return rocca.Localized(rocca.EINVALID, "vpn.error.default_days", "the lifetime of new devices must be from 0 (none) to 3650 days")
	}
	if s.LogDays < 1 || s.LogDays > 3650 {
		return rocca.Localized(rocca.EINVALID, "vpn.error.log_days", "the connection log must be kept from 1 to 3650 days")
	}
	return nil
}

func validDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func loadSettings(ctx context.Context, q querier) (Settings, error) {
	var s Settings
	var ranges string
	err := q.QueryRowContext(ctx, `SELECT preset, custom_ranges, search_domain, self_service, max_devices, use_psk, link_hours, default_days, log_days
		FROM vpn_settings WHERE id = 1`).Scan(&s.Preset, &ranges, &s.SearchDomain, &s.SelfService, &s.MaxDevices, &s.UsePSK, &s.LinkHours, &s.DefaultDays, &s.LogDays)
	if err != nil {
		return s, fmt.Errorf("vpn settings: %w", err)
	}
	for _, f := range strings.Fields(ranges) {
		if p, err := netip.ParsePrefix(f); err == nil {
			s.CustomRanges = append(s.CustomRanges, p)
		}
	}
	return s, nil
}

func storeSettings(ctx context.Context, q querier, s Settings, now time.Time) error {
	ranges := make([]string, len(s.CustomRanges))
	for i, p := range s.CustomRanges {
		ranges[i] = p.Masked().String()
	}
	_, err := q.ExecContext(ctx, `UPDATE vpn_settings SET preset = ?, custom_ranges = ?, search_domain = ?, self_service = ?, max_devices = ?,
		use_psk = ?, link_hours = ?, default_days = ?, log_days = ?, updated_at = ? WHERE id = 1`,
		s.Preset, strings.Join(ranges, " "), s.SearchDomain, s.SelfService, s.MaxDevices, s.UsePSK, s.LinkHours, s.DefaultDays, s.LogDays, unix(now))
	if err != nil {
		return fmt.Errorf("store vpn settings: %w", err)
	}
	return nil
}
