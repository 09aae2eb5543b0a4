package vpn

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestImportWGQuickParsesSample(t *testing.T) {
	f, err := os.Open("testdata/wg0.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wq, err := ImportWGQuick(f)
	if err != nil {
		t.Fatal(err)
	}
	if wq.PrivateKey.String() != "WHFyreYsT83VtmnHhNB9czxXiUPV3SvzwZpPZJY54Ho=" || wq.ListenPort != 51820 ||
		len(wq.Addresses) != 1 || wq.Addresses[0].String() != "10.86.0.1/24" {
		t.Errorf("interface %+v", wq)
	}
	if !slices.Equal(wq.Ignored, []string{"postup", "postdown", "saveconfig"}) {
		t.Errorf("ignored %v", wq.Ignored)
	}
	var names, addrs []string
	for _, p := range wq.Peers {
		names = append(names, p.Name)
		addrs = append(addrs, p.AllowedIPs[0].String())
	}
	if !slices.Equal(names, []string{"portatile di Anna", "telefono-bruno", "stampante ufficio"}) ||
		!slices.Equal(addrs, []string{"10.86.0.2/32", "10.86.0.7/32", "10.86.0.9/32"}) {
		t.Errorf("peers %v %v", names, addrs)
	}
	if wq.Peers[0].PresharedKey == nil || wq.Peers[1].PresharedKey != nil || wq.Peers[1].Keepalive != 25 {
		t.Errorf("psk/keepalive %+v", wq.Peers)
	}
}

func TestImportWGQuickErrors(t *testing.T) {
	key := "3aMa2dpi+OCY0b9vmAYbRhOrGMUUfzYEVR7fIM5twlk="
	tests := []struct{ name, in, key string }{
		{"no interface", "[Peer]\nPublicKey = " + key + "\n", "vpn.import.no_interface"},
		{"empty", "", "vpn.import.no_interface"},
		{"no equals", "[Interface]\nPrivateKey\n", "vpn.import.syntax"},
		{"outside", "ListenPort = 1\n", "vpn.import.outside"},
		{"bad header", "[Interface\n", "vpn.import.header"},
		{"two interfaces", "[Interface]\n[Interface]\n", "vpn.import.second_interface"},
		{"unknown section", "[Interface]\n[Pier]\n", "vpn.import.unknown_section"},
		{"peer without key", "[Interface]\n[Peer]\nAllowedIPs = 10.86.0.2/32\n", "vpn.import.peer_no_key"},
		{"peer twice", "[Interface]\n[Peer]\nPublicKey = " + key + "\n[Peer]\nPublicKey = " + key + "\n", "vpn.import.peer_twice"},
		{"bad private key", "[Interface]\nPrivateKey = abc\n", "vpn.import.bad_key"},
		{"bad port", "[Interface]\nListenPort = 70000\n", "vpn.import.bad_port"},
		{"bad address", "[Interface]\nAddress = 10.86.0.1\n", "vpn.import.bad_address"},
		{"bad allowed", "[Interface]\n[Peer]\nPublicKey = " + key + "\nAllowedIPs = 10.86.0/32\n", "vpn.import.bad_allowed"},
		{"bad keepalive", "[Interface]\n[Peer]\nPublicKey = " + key + "\nPersistentKeepalive = often\n", "vpn.import.bad_keepalive"},
		{"long line", "[Interface]\n# " + strings.Repeat("x", 70000) + "\n", "vpn.import.line_too_long"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ImportWGQuick(strings.NewReader(tt.in))
			wantCode(t, err, rocca.EINVALID, tt.key)
			// Every message a user can get from a file exists in both languages.
			for _, lang := range []string{"it", "en"} {
				if !e.cat.Has(lang, tt.key) {
					t.Errorf("catalog %s lacks %s", lang, tt.key)
				}
			}
		})
	}
}

func TestImportAdoptsServerKeyAndPeers(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	f, _ := os.Open("testdata/wg0.conf")
	defer f.Close()
	res, err := e.svc.Import(userCtx(e.admin), f, e.admin.Email)
	if err != nil {
		t.Fatal(err)
	}
	if !res.ServerKeyAdopted || len(res.Added) != 3 || len(res.Warnings) != 1 || res.Warnings[0].Key != "vpn.import.ignored" {
		t.Fatalf("result %+v", res)
	}
	oldKey, _ := wgtypes.ParseKey("WHFyreYsT83VtmnHhNB9czxXiUPV3SvzwZpPZJY54Ho=")
	if e.svc.ServerPublicKey() != oldKey.PublicKey() {
		t.Error("the service does not use the imported server key")
	}
	b, _ := os.ReadFile(e.cfg.keyPath(serverKeyFile))
	if strings.TrimSpace(string(b)) != oldKey.String() {
		t.Error("the key file does not hold the imported key")
	}
	if st, _ := os.Stat(e.cfg.keyPath(serverKeyFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	// The interface is reopened with the imported key and gets the adopted peers, PSK included.
	e.svc.Reconcile(context.Background())
	if e.host.opens != 2 || e.host.keys[1] != oldKey || !dev.closed {
		t.Fatalf("opens %d: want the interface reopened with the imported key", e.host.opens)
	}
	ndev := e.host.device()
	p, ok := ndev.peer("3aMa2dpi+OCY0b9vmAYbRhOrGMUUfzYEVR7fIM5twlk=")
	if !ok || p.PresharedKey.String() != "YLpAeDtNzh64d3YXWyU9b5qxlB4UBSWtsyS8fXQIUGI=" || p.AllowedIPs[0].String() != "10.86.0.2/32" {
		t.Errorf("adopted peer on the interface: %+v", p)
	}
	if ndev.count() != 3 {
		t.Errorf("%d peers on the interface, want 3", ndev.count())
	}
	// New devices avoid the adopted addresses.
	if d := e.add(e.anna, "nuovo"); d.Peer.Address.String() != "10.86.0.3" {
		t.Errorf("new device got %s", d.Peer.Address)
	}
	// Importing again adds nothing.
	f2, _ := os.Open("testdata/wg0.conf")
	defer f2.Close()
	res, err = e.svc.Import(userCtx(e.admin), f2, e.admin.Email)
	if err != nil || res.ServerKeyAdopted || len(res.Added) != 0 || len(res.Skipped) != 3 {
		t.Errorf("second import: %+v %v", res, err)
	}
	if !slices.Contains(e.auditActions(), "vpn.import") {
		t.Error("no audit entry for the import")
	}
}

func TestImportRefusalsChangeNothing(t *testing.T) {
	sample, _ := os.ReadFile("testdata/wg0.conf")
	e := newEnv(t)
	e.start()
	key := e.svc.ServerPublicKey()
	check := func(name, conf, owner string, code rocca.ErrorCode, msgKey string) {
		t.Helper()
		rows := e.countRows("vpn_peers")
		_, err := e.svc.Import(userCtx(e.admin), strings.NewReader(conf), owner)
		wantCode(t, err, code, msgKey)
		if e.countRows("vpn_peers") != rows || e.svc.ServerPublicKey() != key {
			t.Errorf("%s: the refused import changed something", name)
		}
	}
	check("subnet", strings.Replace(string(sample), "10.86.0.1/24", "10.0.0.1/24", 1), e.admin.Email, rocca.EINVALID, "vpn.import.subnet_mismatch")
	check("ranges", strings.Replace(string(sample), "AllowedIPs = 10.86.0.2/32", "AllowedIPs = 10.86.0.2/32, 192.168.50.0/24", 1), e.admin.Email, rocca.EINVALID, "vpn.import.peer_ranges")
	check("no key", strings.Replace(string(sample), "PrivateKey", "# PrivateKey", 1), e.admin.Email, rocca.EINVALID, "vpn.import.no_key")
	check("owner", string(sample), "nessuno@example.it", rocca.ENOTFOUND, "auth.error.user_not_found")
	e.add(e.anna, "portatile")
	check("key conflict", string(sample), e.admin.Email, rocca.ECONFLICT, "vpn.import.key_conflict")
}

func FuzzImport(f *testing.F) {
	sample, _ := os.ReadFile("testdata/wg0.conf")
	f.Add(string(sample))
	f.Add("[Interface]\nPrivateKey = WHFyreYsT83VtmnHhNB9czxXiUPV3SvzwZpPZJY54Ho=\n")
	f.Add("[Peer]\n# begin x\n#end\n=\n[")
	f.Fuzz(func(t *testing.T, in string) {
		wq, err := ImportWGQuick(strings.NewReader(in))
		if err != nil {
			if rocca.ErrorCodeOf(err) != rocca.EINVALID && rocca.ErrorCodeOf(err) != rocca.ETOOLARGE {
				t.Fatalf("parse error is not a user error: %v", err)
			}
			return
		}
		seen := map[wgtypes.Key]bool{}
		for _, p := range wq.Peers {
			if p.PublicKey == (wgtypes.Key{}) || seen[p.PublicKey] {
				t.Fatalf("peer without a key or twice: %+v", p)
			}
			seen[p.PublicKey] = true
			if len([]rune(p.Name)) > maxNameLen || strings.ContainsAny(p.Name, "\n\r") {
				t.Fatalf("name %q", p.Name)
			}
		}
	})
}

func FuzzParseKey(f *testing.F) {
	f.Add("3aMa2dpi+OCY0b9vmAYbRhOrGMUUfzYEVR7fIM5twlk=")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add(" 3aMa2dpi+OCY0b9vmAYbRhOrGMUUfzYEVR7fIM5twlk=\n")
	f.Add("3aMa2dpi-OCY0b9vmAYbRhOrGMUUfzYEVR7fIM5twlk=")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if rocca.ErrorCodeOf(err) != rocca.EINVALID {
				t.Fatalf("not a user error: %v", err)
			}
			return
		}
		if k == (wgtypes.Key{}) {
			t.Fatal("accepted the zero key")
		}
		if k.String() != strings.TrimSpace(s) {
			t.Fatalf("ParseKey(%q) = %s: not the same key", s, k)
		}
	})
}
