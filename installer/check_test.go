package installer

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/internal/config"
)

// checkCase is one machine (good, with one change) and the status the check must report on it.
type checkCase struct {
	name  string
	setup func(t *testing.T, f *fakeSys, in *Input)
	want  Status
}

// runCases runs check id over the cases and verifies status and texts.
func runCases(t *testing.T, id string, cases []checkCase) []Result {
	t.Helper()
	cat := testCatalog(t)
	var results []Result
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := goodSys()
			in := Input{Sys: f, Config: testConfig(t.TempDir()), Paths: NewPaths("")}
			if tc.setup != nil {
				tc.setup(t, f, &in)
			}
			rep := Preflight(context.Background(), in, nil, id)
			if len(rep.Results) != 1 {
				t.Fatalf("got %d results", len(rep.Results))
			}
			r := rep.Results[0]
			if r.Status != tc.want {
				t.Errorf("status %s, want %s: %s", r.Status, tc.want, r.Text(cat, "en"))
			}
			if r.Status != OK && r.Fix == "" && r.Status == Blocker {
				t.Errorf("a blocker without a fix: %s", r.Text(cat, "en"))
			}
			assertTexts(t, cat, r)
			results = append(results, r)
		})
	}
	return results
}

func TestCheckOS(t *testing.T) {
	runCases(t, "os", []checkCase{
		{"debian 12", nil, OK},
		{"other distribution", func(_ *testing.T, f *fakeSys, _ *Input) { f.os.ID, f.os.Pretty = "arch", "Arch Linux" }, Warning},
		{"old debian", func(_ *testing.T, f *fakeSys, _ *Input) { f.os.VersionID = "10" }, Warning},
		{"old kernel", func(_ *testing.T, f *fakeSys, _ *Input) { f.os.Kernel = "3.10.0-1160.el7.x86_64" }, Blocker},
		{"not linux", func(_ *testing.T, f *fakeSys, _ *Input) { f.os.GOOS = "freebsd" }, Blocker},
	})
}

func TestCheckPrivileges(t *testing.T) {
	runCases(t, "privileges", []checkCase{
		{"root", nil, OK},
		{"user under prefix", func(t *testing.T, f *fakeSys, in *Input) { f.euid, in.Paths = 1000, NewPaths(t.TempDir()) }, Warning},
		{"user in doctor", func(_ *testing.T, f *fakeSys, in *Input) { f.euid, in.Doctor = 1000, true }, Warning},
		{"user installing", func(_ *testing.T, f *fakeSys, _ *Input) { f.euid = 1000 }, Blocker},
	})
}

func TestCheckSystemd(t *testing.T) {
	runCases(t, "systemd", []checkCase{
		{"running", nil, OK},
		{"container", func(_ *testing.T, f *fakeSys, _ *Input) { f.systemd.Running = false }, Warning},
		{"too old", func(_ *testing.T, f *fakeSys, _ *Input) { f.systemd.Version = 232 }, Blocker},
	})
}

func TestCheckTUN(t *testing.T) {
	missing := errors.New("stat /dev/net/tun: no such file or directory")
	runCases(t, "tun", []checkCase{
		{"present", nil, OK},
		{"vpn off", func(_ *testing.T, f *fakeSys, in *Input) { f.tunErr, in.Config.VPN.Enabled = missing, false }, OK},
		{"missing, kernel module", func(_ *testing.T, f *fakeSys, _ *Input) { f.tunErr = missing }, Warning},
		{"missing, no module", func(_ *testing.T, f *fakeSys, _ *Input) { f.tunErr, f.wgErr = missing, errors.New("no module") }, Blocker},
		{"missing, external mode", func(_ *testing.T, f *fakeSys, in *Input) {
			f.tunErr, f.wgErr, in.Config.VPN.Mode = missing, errors.New("no module"), config.VPNExternal
		}, OK},
	})
}

func TestCheckWireGuard(t *testing.T) {
	noModule := errors.New("wireguard: no kernel module for Linux 6.1.0")
	runCases(t, "wireguard", []checkCase{
		{"module", nil, OK},
		{"userspace chosen", func(_ *testing.T, f *fakeSys, in *Input) { f.wgErr, in.Config.VPN.Mode = noModule, config.VPNUserspace }, OK},
		{"fallback", func(_ *testing.T, f *fakeSys, _ *Input) { f.wgErr = noModule }, Warning},
		{"kernel required", func(_ *testing.T, f *fakeSys, in *Input) { f.wgErr, in.Config.VPN.Mode = noModule, config.VPNKernel }, Blocker},
		{"external, interface there", func(_ *testing.T, f *fakeSys, in *Input) {
			f.wgErr, f.wgLink, in.Config.VPN.Mode = noModule, map[string]string{in.Config.VPN.Interface: "wireguard-go"}, config.VPNExternal
		}, OK},
		{"external, interface missing", func(_ *testing.T, f *fakeSys, in *Input) {
			f.wgLink, in.Config.VPN.Mode = map[string]string{"wg9": "kernel"}, config.VPNExternal
		}, Warning},
	})
}

func TestCheckPorts(t *testing.T) {
	res := runCases(t, "ports", []checkCase{
		{"free", nil, OK},
		{"held by rocca", func(_ *testing.T, f *fakeSys, _ *Input) { f.busy["tcp/443"] = "rocca" }, OK},
		{"needs root", func(_ *testing.T, f *fakeSys, _ *Input) { f.denied["tcp/443"] = true }, Warning},
		{"doctor without root", func(_ *testing.T, f *fakeSys, in *Input) { f.busy["tcp/443"], f.euid, in.Doctor = "", 1000, true }, Warning},
		{"busy", func(_ *testing.T, f *fakeSys, _ *Input) { f.busy["tcp/443"], f.busy["udp/51820"] = "nginx", "" }, Blocker},
		{"vpn port held by wireguard-go", func(_ *testing.T, f *fakeSys, _ *Input) { f.busy["udp/51820"] = "wireguard-go" }, Blocker},
		{"external: vpn port held by its wireguard-go", func(_ *testing.T, f *fakeSys, in *Input) {
			f.busy["udp/51820"], in.Config.VPN.Mode = "wireguard-go", config.VPNExternal
		}, OK},
		{"external: vpn port held by the kernel", func(_ *testing.T, f *fakeSys, in *Input) {
			f.busy["udp/51820"], in.Config.VPN.Mode = "", config.VPNExternal
		}, OK},
		{"external: web port still checked", func(_ *testing.T, f *fakeSys, in *Input) {
			f.busy["tcp/443"], in.Config.VPN.Mode = "", config.VPNExternal
		}, Blocker},
	})
	cat := testCatalog(t)
	if got := res[4].Text(cat, "it"); !strings.Contains(got, "TCP 443 (nginx)") || !strings.Contains(got, "UDP 51820") {
		t.Errorf("busy ports not named: %s", got)
	}
	if got := res[4].FixText(cat, "it"); !strings.Contains(got, ":(443|51820)") {
		t.Errorf("fix does not grep the ports: %s", got)
	}
}

func TestCheckFirewall(t *testing.T) {
	res := runCases(t, "firewall", []checkCase{
		{"none", nil, OK},
		{"ufw", func(_ *testing.T, f *fakeSys, _ *Input) { f.fw.UFW = true }, Warning},
		{"firewalld", func(_ *testing.T, f *fakeSys, _ *Input) { f.fw.Firewalld = true }, Warning},
		{"nftables drop", func(_ *testing.T, f *fakeSys, _ *Input) { f.fw.NftDrop = true }, Warning},
		{"two managers", func(_ *testing.T, f *fakeSys, _ *Input) { f.fw.UFW, f.fw.Firewalld = true, true }, Blocker},
		{"no nftables", func(_ *testing.T, f *fakeSys, _ *Input) { f.fw.NftErr = errors.New("protocol not supported") }, Blocker},
	})
	cat := testCatalog(t)
	for i, want := range map[int][]string{
		1: {"ufw allow 443/tcp", "ufw allow 51820/udp", "ufw allow 7882/udp", "ufw allow 7882/tcp", "ufw allow 3478/udp"},
		2: {"firewall-cmd --permanent --add-port=443/tcp", "firewall-cmd --reload"},
		3: {"nft add rule inet filter input udp dport 51820 accept"},
	} {
		for _, w := range want {
			if fix := res[i].FixText(cat, "it"); !strings.Contains(fix, w) {
				t.Errorf("%s: fix lacks %q:\n%s", res[i].ID, w, fix)
			}
		}
	}
	if fix := res[1].FixText(cat, "it"); strings.Contains(fix, "9090") {
		t.Errorf("the metrics port must not be opened:\n%s", fix)
	}
}

func TestCheckTime(t *testing.T) {
	runCases(t, "time", []checkCase{
		{"synchronised", nil, OK},
		{"not synchronised", func(_ *testing.T, f *fakeSys, _ *Input) { f.ts.Synchronized = false }, Warning},
		{"no service", func(_ *testing.T, f *fakeSys, _ *Input) { f.ts = TimeSyncInfo{} }, Warning},
		{"clock in the past", func(_ *testing.T, f *fakeSys, _ *Input) { f.now = f.now.AddDate(-8, 0, 0) }, Blocker},
	})
}

func TestCheckDisk(t *testing.T) {
	runCases(t, "disk", []checkCase{
		{"plenty", nil, OK},
		{"low", func(_ *testing.T, f *fakeSys, _ *Input) { f.disk = 3 << 30 }, Warning},
		{"unknown", func(_ *testing.T, f *fakeSys, _ *Input) { f.diskErr = errors.New("permission denied") }, Warning},
		{"full", func(_ *testing.T, f *fakeSys, _ *Input) { f.disk = 500 << 20 }, Blocker},
	})
}

func TestCheckMemory(t *testing.T) {
	runCases(t, "memory", []checkCase{
		{"plenty", nil, OK},
		{"low", func(_ *testing.T, f *fakeSys, _ *Input) { f.mem = 700 << 20 }, Warning},
		{"too little", func(_ *testing.T, f *fakeSys, _ *Input) { f.mem = 256 << 20 }, Blocker},
	})
}

func TestCheckSubnet(t *testing.T) {
	res := runCases(t, "subnet", []checkCase{
		{"free", nil, OK},
		{"own vpn interface", func(_ *testing.T, f *fakeSys, _ *Input) {
			f.addrs = append(f.addrs, Addr{Iface: "rocca0", Prefix: netip.MustParsePrefix("10.86.0.1/24")})
			f.routes = append(f.routes, Route{Dst: netip.MustParsePrefix("10.86.0.0/24"), Iface: "rocca0"})
		}, OK},
		{"routed", func(_ *testing.T, f *fakeSys, _ *Input) {
			f.routes = append(f.routes, Route{Dst: netip.MustParsePrefix("10.86.0.0/16"), Iface: "eth1"})
		}, Warning},
		{"local network", func(_ *testing.T, f *fakeSys, _ *Input) {
			f.addrs = append(f.addrs, Addr{Iface: "eth1", Prefix: netip.MustParsePrefix("10.86.0.5/24")})
			f.routes = append(f.routes, Route{Dst: netip.MustParsePrefix("10.87.0.0/16"), Iface: "eth2"})
		}, Blocker},
	})
	if got := res[3].FixArgs[0]; got != "10.88.0.0/24" {
		t.Errorf("proposed %v, want 10.88.0.0/24 (10.86 and 10.87 are taken)", got)
	}
}

func TestCheckHostname(t *testing.T) {
	runCases(t, "hostname", []checkCase{
		{"resolves here", nil, OK},
		{"ip of this host", func(_ *testing.T, _ *fakeSys, in *Input) { in.Config.Server.PublicURL = "https://192.168.1.10" }, OK},
		{"resolves elsewhere", func(_ *testing.T, f *fakeSys, _ *Input) {
			f.dns["rocca.comune.esempio.it"] = []netip.Addr{netip.MustParseAddr("203.0.113.7")}
		}, Warning},
		{"unresolved, self-signed", func(_ *testing.T, f *fakeSys, _ *Input) { delete(f.dns, "rocca.comune.esempio.it") }, Warning},
		{"unresolved, acme", func(_ *testing.T, f *fakeSys, in *Input) {
			delete(f.dns, "rocca.comune.esempio.it")
			in.Config.Server.TLS = config.TLSACME
		}, Blocker},
	})
}

func TestCheckIMAP(t *testing.T) {
	port := startIMAP(t)
	mailbox := func(user, pw string) func(*testing.T, *fakeSys, *Input) {
		return func(_ *testing.T, _ *fakeSys, in *Input) {
			h := &in.Config.Helpdesk
			h.Address, h.IMAPHost, h.IMAPPort, h.IMAPSecurity, h.IMAPUser = "helpdesk@comune.esempio.it", "127.0.0.1", port, config.SecurityNone, user
			in.IMAPPassword = pw
		}
	}
	runCases(t, "imap", []checkCase{
		{"login", mailbox("username", "password"), OK},
		{"helpdesk off", func(_ *testing.T, _ *fakeSys, in *Input) { in.Config.Helpdesk.Enabled = false }, OK},
		{"not configured", nil, Warning},
		{"wrong password", mailbox("username", "wrong"), Blocker},
		{"password file missing", func(t *testing.T, f *fakeSys, in *Input) {
			mailbox("username", "")(t, f, in)
			in.Config.Helpdesk.IMAPPasswordFile = t.TempDir() + "/missing"
		}, Blocker},
	})
}

// TestMailFixNamesProvider: a refused password login gets the fix of its provider (Microsoft 365
// takes no passwords, PEC providers have their own servers), else the usual one for the error.
func TestMailFixNamesProvider(t *testing.T) {
	refused := errors.New("LOGIN: Authentication failed.")
	for host, want := range map[string]string{
		"outlook.office365.com":  "installer.fix.imap.microsoft",
		"imaps.pec.aruba.it":     "installer.fix.imap.pec_login",
		"mbox.cert.legalmail.it": "installer.fix.imap.pec_login",
		"imap.comune.esempio.it": "mail.hint.password",
	} {
		r := mailFailure(Input{Config: testConfig(t.TempDir())}, "imap", "password", "", mailServer{host: host, port: 993}, refused)
		if r.Fix != want || r.Status != Blocker {
			t.Errorf("%s: fix %s, want %s", host, r.Fix, want)
		}
	}
	r := mailFailure(Input{Config: testConfig(t.TempDir())}, "smtp", "password", "", mailServer{host: "smtp.comune.esempio.it", port: 587}, errors.New("EHLO: 554 go away"))
	if r.Fix != "installer.fix.smtp.failed" {
		t.Errorf("unknown SMTP failure: fix %s", r.Fix)
	}
}

func TestCheckSMTP(t *testing.T) {
	port := startSMTP(t, "helpdesk", "s3greto")
	relay := func(pw string) func(*testing.T, *fakeSys, *Input) {
		return func(_ *testing.T, _ *fakeSys, in *Input) {
			m := &in.Config.Mail
			m.SMTPHost, m.SMTPPort, m.SMTPSecurity, m.SMTPUser = "127.0.0.1", port, config.SecurityNone, "helpdesk"
			in.SMTPPassword = pw
		}
	}
	runCases(t, "smtp", []checkCase{
		{"login", relay("s3greto"), OK},
		{"not configured", nil, Warning},
		{"wrong password", relay("sbagliata"), Blocker},
	})
}

func TestForcedBlockerDoesNotStop(t *testing.T) {
	f := goodSys()
	f.mem = 100 << 20
	in := Input{Sys: f, Config: testConfig(t.TempDir()), Paths: NewPaths("")}
	rep := Preflight(context.Background(), in, []string{"memory"}, "memory", "disk")
	if len(rep.Blockers()) != 0 || !rep.Results[1].Forced || rep.Worst() != Warning { // disk, memory
		t.Errorf("forced blocker: blockers %v, worst %s", rep.Blockers(), rep.Worst())
	}
	rep = Preflight(context.Background(), in, nil, "memory")
	if len(rep.Blockers()) != 1 || rep.Worst() != Blocker {
		t.Errorf("unforced blocker: blockers %v, worst %s", rep.Blockers(), rep.Worst())
	}
}

func TestEveryCheckIsTested(t *testing.T) {
	// Keep in step with the Test* functions above: a new check needs its OK/AVVISO/BLOCCO cases.
	tested := []string{"os", "privileges", "systemd", "tun", "wireguard", "ports", "firewall", "time", "disk",
		"memory", "subnet", "hostname", "imap", "smtp"}
	if got := CheckIDs(); strings.Join(got, ",") != strings.Join(tested, ",") {
		t.Errorf("checks %v, tested %v", got, tested)
	}
}
