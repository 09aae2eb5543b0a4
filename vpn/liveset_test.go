package vpn

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// TestDecodeKey: the reconcile pass's key decoding agrees with wgtypes.ParseKey and allocates
// nothing.
func TestDecodeKey(t *testing.T) {
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	good := k.PublicKey().String()
	for _, s := range []string{good, "", good[:43], strings.Repeat("A", 44), strings.Repeat("A", 43) + "=", "!" + good[1:], good + "="} {
		var got wgtypes.Key
		ok := decodeKey(s, &got)
		want, err := wgtypes.ParseKey(s)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("decodeKey(%q) = %v, %v; ParseKey: %v, %v", s, got, ok, want, err)
		}
	}
	var out wgtypes.Key
	if n := testing.AllocsPerRun(100, func() { decodeKey(good, &out) }); n != 0 {
		t.Errorf("decodeKey allocates %.0f times, want 0", n)
	}
}

func FuzzDecodeKey(f *testing.F) {
	f.Add("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=")
	f.Add("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmkA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		var got wgtypes.Key
		ok := decodeKey(s, &got)
		want, err := wgtypes.ParseKey(s)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("decodeKey(%q) = %v, %v; ParseKey: %v, %v", s, got, ok, want, err)
		}
	})
}

// TestPSKOpenInto: opening through reused buffers gives what open gives, refuses what open
// refuses, and allocates nothing once the buffers have grown.
func TestPSKOpenInto(t *testing.T) {
	box, err := loadPSKBox(t.TempDir() + "/psk.key")
	if err != nil {
		t.Fatal(err)
	}
	var in, out []byte
	var sealed []string
	for range 3 {
		k, _ := wgtypes.GenerateKey()
		s, err := box.seal(k)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
		var got wgtypes.Key
		if in, out, err = box.openInto(s, &got, in, out); err != nil || got != k {
			t.Errorf("openInto(seal(k)) = %v, %v; want k", got, err)
		}
	}
	for _, bad := range []string{"", "v1:", "v2:" + sealed[0][3:], sealed[0][:40], sealed[0][:len(sealed[0])-4] + "AAAA", "v1:" + strings.Repeat("A", 200)} {
		var got wgtypes.Key
		_, openErr := box.open(bad)
		if in, out, err = box.openInto(bad, &got, in, out); err == nil || openErr == nil {
			t.Errorf("%q: openInto error %v, open error %v; want both to refuse it", bad, err, openErr)
		}
	}
	var k wgtypes.Key
	if n := testing.AllocsPerRun(100, func() { in, out, _ = box.openInto(sealed[1], &k, in, out) }); n != 0 {
		t.Errorf("openInto allocates %.0f times per key, want 0", n)
	}
	if out != nil && strings.Trim(string(out[:cap(out)]), "\x00") != "" {
		t.Error("openInto leaves the plaintext in its buffer")
	}
}

func TestOnlyHostAndSameEndpoint(t *testing.T) {
	a := netip.MustParseAddr("10.86.0.7")
	host := hostNet(a)
	for _, tt := range []struct {
		ips  []net.IPNet
		want bool
	}{
		{[]net.IPNet{host}, true},
		{[]net.IPNet{{IP: net.ParseIP("10.86.0.7"), Mask: net.CIDRMask(32, 32)}}, true}, // a 16-byte IPv4
		{nil, false},
		{[]net.IPNet{host, host}, false},
		{[]net.IPNet{{IP: a.AsSlice(), Mask: net.CIDRMask(24, 32)}}, false},
		{[]net.IPNet{hostNet(netip.MustParseAddr("10.86.0.8"))}, false},
	} {
		if got := onlyHost(tt.ips, a); got != tt.want {
			t.Errorf("onlyHost(%v, %s) = %v, want %v", tt.ips, a, got, tt.want)
		}
	}
	for _, tt := range []struct {
		recorded string
		addr     *net.UDPAddr
		want     bool
	}{
		{"203.0.113.5:51820", &net.UDPAddr{IP: net.ParseIP("203.0.113.5"), Port: 51820}, true},
		{"203.0.113.5:51820", &net.UDPAddr{IP: net.ParseIP("203.0.113.5"), Port: 51821}, false},
		{"[2001:db8::1]:51820", &net.UDPAddr{IP: net.ParseIP("2001:db8::1"), Port: 51820}, true},
		{"", &net.UDPAddr{IP: net.ParseIP("203.0.113.5"), Port: 51820}, false},
	} {
		if got := sameEndpoint(tt.recorded, tt.addr); got != tt.want {
			t.Errorf("sameEndpoint(%q, %s) = %v, want %v", tt.recorded, tt.addr, got, tt.want)
		}
		// Whenever it says equal, the text the interface would give is the same.
		if sameEndpoint(tt.recorded, tt.addr) && tt.addr.String() != tt.recorded {
			t.Errorf("sameEndpoint(%q, %s) but the text differs", tt.recorded, tt.addr)
		}
	}
}
