package vpn

import (
	"bytes"
	"flag"
	"image/png"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func mustKey(t *testing.T, s string) *wgtypes.Key {
	t.Helper()
	k, err := wgtypes.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return &k
}

// TestClientConfigGolden pins the wg-quick text the stock apps import.
func TestClientConfigGolden(t *testing.T) {
	c := ClientConfig{
		Title:      "Rocca - Comune di Città - portatile",
		PrivateKey: mustKey(t, "WHFyreYsT83VtmnHhNB9czxXiUPV3SvzwZpPZJY54Ho="),
		Address:    netip.MustParseAddr("10.86.0.2"),
		DNS:        []netip.Addr{netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("192.168.1.2")},
		Search:     "comune.local",
		MTU:        1420,
		ServerKey:  *mustKey(t, "3aMa2dpi+OCY0b9vmAYbRhOrGMUUfzYEVR7fIM5twlk="),
		PSK:        mustKey(t, "YLpAeDtNzh64d3YXWyU9b5qxlB4UBSWtsyS8fXQIUGI="),
		Endpoint:   "vpn.comune.example.it:51820",
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.86.0.0/24"), netip.MustParsePrefix("192.168.1.0/24")},
		Keepalive:  25,
	}
	golden(t, "testdata/client.conf.golden", c.String())
	c.PrivateKey, c.PSK, c.DNS, c.Keepalive, c.MTU = nil, nil, nil, 0, 0
	c.OwnKeyNote = "(la chiave privata del tuo dispositivo)\nPrivateKey = iniettata"
	golden(t, "testdata/client_own_key.conf.golden", c.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestConfigFileName(t *testing.T) {
	for in, want := range map[string]string{
		"portatile":             "rocca-portatile.conf",
		"Telefono di Anna":      "rocca-telefono.conf",
		"PC città":              "rocca-pc-citta.conf",
		"///":                   "rocca.conf",
		"a.b_c-d":               "rocca-a-b_c-d.conf",
		"portatile-molto-lungo": "rocca-portatile.conf",
	} {
		got := ConfigFileName(in)
		if got != want {
			t.Errorf("ConfigFileName(%q) = %q, want %q", in, got, want)
		}
		if base := strings.TrimSuffix(got, ".conf"); len(base) > 15 {
			t.Errorf("%q is longer than an interface name", base)
		}
	}
}

func TestPresetsShapeAllowedIPs(t *testing.T) {
	e := newEnv(t)
	e.start()
	ctx := userCtx(e.admin)
	set, _ := e.svc.Settings(ctx)
	for _, tt := range []struct {
		preset string
		custom []netip.Prefix
		want   string
	}{
		{PresetLAN, nil, "AllowedIPs = 10.86.0.0/24, 192.168.1.0/24\n"},
		{PresetAll, nil, "AllowedIPs = 0.0.0.0/0, ::/0\n"},
		{PresetCustom, []netip.Prefix{netip.MustParsePrefix("172.16.5.0/24")}, "AllowedIPs = 10.86.0.0/24, 172.16.5.0/24\n"},
	} {
		set.Preset, set.CustomRanges = tt.preset, tt.custom
		if err := e.svc.UpdateSettings(ctx, set); err != nil {
			t.Fatal(err)
		}
		d := e.add(e.anna, "dev-"+tt.preset)
		if !strings.Contains(d.Config, tt.want) {
			t.Errorf("preset %s:\n%s", tt.preset, d.Config)
		}
	}
}

func TestQRCodes(t *testing.T) {
	e := newEnv(t)
	e.start()
	d := e.add(e.anna, "portatile")
	img, err := QRPNG(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("QRPNG is not a PNG: %v", err)
	}
	term, err := TerminalQR(d.Config, 200)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(term, "\n"), "\n")
	width := len([]rune(lines[0]))
	if len(lines) != (width+1)/2 || strings.Trim(term, "█▀▄ \n") != "" {
		t.Errorf("terminal QR: %d lines of %d columns, want half as many lines as columns, only block characters", len(lines), width)
	}
	for _, l := range lines {
		if len([]rune(l)) != width {
			t.Fatal("terminal QR lines of different widths")
		}
	}
	// The quiet zone is light: the first line is all full blocks.
	if strings.Trim(lines[0], "█") != "" {
		t.Errorf("first line %q is not the light quiet zone", lines[0])
	}
	_, err = TerminalQR(d.Config, width-1)
	wantCode(t, err, rocca.ETOOLARGE, "vpn.error.qr_too_wide")
}

func TestConfigValidate(t *testing.T) {
	ok := testConfig(t.TempDir())
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		key    string
		change func(*Config)
	}{
		{"vpn.config.interface", func(c *Config) { c.Interface = "nome/sbagliato" }},
		{"vpn.config.mode", func(c *Config) { c.Mode = "fast" }},
		{"vpn.config.port", func(c *Config) { c.ListenPort = 0 }},
		{"vpn.config.subnet", func(c *Config) { c.Subnet = "10.86.0.1/24" }},
		{"vpn.config.subnet", func(c *Config) { c.Subnet = "10.0.0.0/8" }},
		{"vpn.config.subnet", func(c *Config) { c.Subnet = "fd00::/64" }},
		{"vpn.config.endpoint", func(c *Config) { c.Endpoint = "" }},
		{"vpn.config.endpoint", func(c *Config) { c.Endpoint = "vpn.example.it" }},
		{"vpn.config.dns", func(c *Config) { c.DNS = []string{"dns.example.it"} }},
		{"vpn.config.lan", func(c *Config) { c.LAN = []string{"192.168.1.0"} }},
		{"vpn.config.mtu", func(c *Config) { c.MTU = 9000 }},
		{"vpn.config.keepalive", func(c *Config) { c.Keepalive = -1 }},
		{"vpn.config.data_dir", func(c *Config) { c.DataDir = "" }},
	} {
		c := ok
		tt.change(&c)
		wantCode(t, c.Validate(), rocca.EINVALID, tt.key)
	}
}

func TestParseExpiresAndDestination(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"": {}, "never": {}, "90d": now.AddDate(0, 0, 90), "2w": now.AddDate(0, 0, 14), "12h": now.Add(12 * time.Hour),
	} {
		got, err := ParseExpires(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseExpires(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := ParseExpires("2026-12-31", now); err != nil || got.Year() != 2027 || got.YearDay() != 1 {
		t.Errorf("a date means the end of that day: %v %v", got, err)
	}
	for _, bad := range []string{"90", "d", "-3d", "3y", "2020-01-01"} {
		if _, err := ParseExpires(bad, now); rocca.ErrorCodeOf(err) != rocca.EINVALID {
			t.Errorf("ParseExpires(%q) accepted", bad)
		}
	}
	for _, tt := range []struct{ net, port, want string }{
		{"192.168.1.10", "", "192.168.1.10/32  0"},
		{"192.168.1.7/24", "tcp/443", "192.168.1.0/24 tcp 443"},
		{"10.0.0.0/8", "53", "10.0.0.0/8  53"},
		{"10.0.0.1", "udp", "10.0.0.1/32 udp 0"},
	} {
		d, err := ParseDestination(tt.net, tt.port)
		if err != nil {
			t.Errorf("ParseDestination(%q, %q): %v", tt.net, tt.port, err)
			continue
		}
		if got := d.Prefix.String() + " " + d.Proto + " " + itoa(int64(d.Port)); got != tt.want {
			t.Errorf("ParseDestination(%q, %q) = %q, want %q", tt.net, tt.port, got, tt.want)
		}
	}
	for _, bad := range [][2]string{{"server", ""}, {"fd00::1", ""}, {"10.0.0.1", "icmp"}, {"10.0.0.1", "tcp/0"}, {"10.0.0.1", "tcp/99999"}} {
		if _, err := ParseDestination(bad[0], bad[1]); rocca.ErrorCodeOf(err) != rocca.EINVALID {
			t.Errorf("ParseDestination(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
