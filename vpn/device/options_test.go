package device

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func validOptions(t *testing.T) Options {
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Name: "rocca0", ListenPort: 51820, PrivateKey: key,
		Addresses: []netip.Prefix{netip.MustParsePrefix("10.86.0.1/24"), netip.MustParsePrefix("fd86::1/64")}}
}

func TestOptionsValidate(t *testing.T) {
	if err := validOptions(t).Validate(); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Options)
		key    string
	}{
		{"empty name", func(o *Options) { o.Name = "" }, "vpn.device.invalid_name"},
		{"name too long", func(o *Options) { o.Name = strings.Repeat("a", 16) }, "vpn.device.invalid_name"},
		{"name with slash", func(o *Options) { o.Name = "wg/0" }, "vpn.device.invalid_name"},
		{"name with space", func(o *Options) { o.Name = "wg 0" }, "vpn.device.invalid_name"},
		{"name dotdot", func(o *Options) { o.Name = ".." }, "vpn.device.invalid_name"},
		{"unknown mode", func(o *Options) { o.Mode = "fast" }, "vpn.device.invalid_mode"},
		{"mode in upper case", func(o *Options) { o.Mode = "External" }, "vpn.device.invalid_mode"},
		{"port zero", func(o *Options) { o.ListenPort = 0 }, "vpn.device.invalid_port"},
		{"port too big", func(o *Options) { o.ListenPort = 65536 }, "vpn.device.invalid_port"},
		{"no key", func(o *Options) { o.PrivateKey = wgtypes.Key{} }, "vpn.device.missing_key"},
		{"mtu too small", func(o *Options) { o.MTU = 500 }, "vpn.device.invalid_mtu"},
		{"subnet as address", func(o *Options) { o.Addresses = []netip.Prefix{netip.MustParsePrefix("10.86.0.0/24")} }, "vpn.device.invalid_address"},
		{"zero address", func(o *Options) { o.Addresses = []netip.Prefix{{}} }, "vpn.device.invalid_address"},
		{"duplicate address", func(o *Options) {
			o.Addresses = []netip.Prefix{netip.MustParsePrefix("10.86.0.1/24"), netip.MustParsePrefix("10.86.0.1/16")}
		}, "vpn.device.invalid_address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions(t)
			tt.change(&o)
			checkUserErr(t, o.Validate(), tt.key)
		})
	}
	for _, ok := range []func(*Options){
		func(o *Options) { o.Mode = ModeKernel; o.MTU = 1280 },
		func(o *Options) { o.Mode = ModeExternal },
		func(o *Options) { o.Addresses = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/31")} }, // point-to-point
		func(o *Options) { o.Addresses = nil },
	} {
		o := validOptions(t)
		ok(&o)
		if err := o.Validate(); err != nil {
			t.Errorf("options %+v rejected: %v", o, err)
		}
	}
}

// TestOpenRejectsBadOptions checks that Open validates before touching the system, so it needs no
// privileges.
func TestOpenRejectsBadOptions(t *testing.T) {
	o := validOptions(t)
	o.ListenPort = -1
	d, err := Open(context.Background(), o, nil)
	if d != nil {
		d.Close()
	}
	checkUserErr(t, err, "vpn.device.invalid_port")
}
