package installer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// fakeSys is a machine in a test: every answer is a field. goodSys is a machine where every check
// passes; tests change one field to see a check warn or block.
type fakeSys struct {
	now      time.Time
	os       OSInfo
	euid     int
	systemd  SystemdInfo
	tunErr   error
	wgErr    error
	wgLink   map[string]string // interface -> kind, for WireGuardLink
	busy     map[string]string // "tcp/443" -> the process holding it
	denied   map[string]bool   // "tcp/80": binding needs root
	fw       FirewallInfo
	ts       TimeSyncInfo
	disk     uint64
	diskErr  error
	mem      uint64
	routes   []Route
	addrs    []Addr
	hostname string
	dns      map[string][]netip.Addr
	users    map[string][2]int
	commands []string
	failCmd  map[string]error
	has      map[string]bool
}

func goodSys() *fakeSys {
	return &fakeSys{
		now:     time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		os:      OSInfo{GOOS: "linux", Arch: "amd64", ID: "debian", VersionID: "12", Pretty: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-18-amd64"},
		systemd: SystemdInfo{Running: true, Version: 252},
		busy:    map[string]string{}, denied: map[string]bool{},
		ts:   TimeSyncInfo{Known: true, Synchronized: true, Source: "systemd-timesyncd"},
		disk: 40 << 30, mem: 4 << 30,
		routes: []Route{
			{Dst: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"},
			{Dst: netip.MustParsePrefix("192.168.20.0/24"), Iface: "eth0"},
		},
		addrs: []Addr{
			{Iface: "lo", Prefix: netip.MustParsePrefix("127.0.0.1/8")},
			{Iface: "eth0", Prefix: netip.MustParsePrefix("192.168.1.10/24")},
		},
		hostname: "rocca.comune.esempio.it",
		dns:      map[string][]netip.Addr{"rocca.comune.esempio.it": {netip.MustParseAddr("192.168.1.10")}},
		users:    map[string][2]int{},
		failCmd:  map[string]error{},
		has:      map[string]bool{"systemctl": true},
	}
}

func (f *fakeSys) Now() time.Time         { return f.now }
func (f *fakeSys) OS() OSInfo             { return f.os }
func (f *fakeSys) EUID() int              { return f.euid }
func (f *fakeSys) Systemd() SystemdInfo   { return f.systemd }
func (f *fakeSys) TUN() error             { return f.tunErr }
func (f *fakeSys) WireGuardModule() error { return f.wgErr }
func (f *fakeSys) WireGuardLink(name string) (string, error) {
	if kind, ok := f.wgLink[name]; ok {
		return kind, nil
	}
	return "", errors.New("no interface " + name)
}
func (f *fakeSys) Firewall() FirewallInfo { return f.fw }
func (f *fakeSys) TimeSync() TimeSyncInfo { return f.ts }
func (f *fakeSys) Hostname() string       { return f.hostname }
func (f *fakeSys) HasCommand(n string) bool {
	return f.has[n]
}

func (f *fakeSys) Bind(proto, _ string, port int) error {
	k := fmt.Sprintf("%s/%d", proto, port)
	if f.denied[k] {
		return &os.SyscallError{Syscall: "bind", Err: syscall.EACCES}
	}
	if _, ok := f.busy[k]; ok {
		return &os.SyscallError{Syscall: "bind", Err: syscall.EADDRINUSE}
	}
	return nil
}

func (f *fakeSys) PortOwner(proto string, port int) string {
	return f.busy[fmt.Sprintf("%s/%d", proto, port)]
}

func (f *fakeSys) DiskFree(string) (uint64, error) { return f.disk, f.diskErr }
func (f *fakeSys) Memory() (uint64, error)         { return f.mem, nil }
func (f *fakeSys) Routes() ([]Route, error)        { return f.routes, nil }
func (f *fakeSys) Addrs() ([]Addr, error)          { return f.addrs, nil }

func (f *fakeSys) LookupHost(_ context.Context, host string) ([]netip.Addr, error) {
	if a, ok := f.dns[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// Dial connects for real, but only to loopback: the mail checks talk to servers the test started.
func (f *fakeSys) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(address)
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		return nil, errors.New("fakeSys: refusing to dial " + address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func (f *fakeSys) LookupUser(name string) (int, int, error) {
	if ids, ok := f.users[name]; ok {
		return ids[0], ids[1], nil
	}
	return 0, 0, errors.New("unknown user " + name)
}

func (f *fakeSys) Command(_ context.Context, name string, args ...string) ([]byte, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	f.commands = append(f.commands, line)
	for prefix, err := range f.failCmd {
		if strings.HasPrefix(line, prefix) {
			return []byte("failed: " + line), err
		}
	}
	return nil, nil
}

// testConfig is a configuration as the wizard would produce it, everything on.
func testConfig(dataDir string) *config.Config {
	c := config.Default()
	c.Server.DataDir = dataDir
	c.Server.Listen = ":443"
	c.Server.PublicURL = "https://rocca.comune.esempio.it"
	c.Server.TLS = config.TLSSelfSigned
	c.Municipality.Name = "Comune di Esempio"
	c.VPN.LAN = []string{"192.168.1.0/24"}
	return c
}

func testCatalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// assertTexts fails when a result's messages are missing in a language or do not take exactly
// their arguments.
func assertTexts(t *testing.T, cat *i18n.Catalog, r Result) {
	t.Helper()
	for _, lang := range i18n.Languages() {
		for _, k := range []string{r.Msg, r.Fix, "installer.check." + r.ID + ".title"} {
			if k != "" && !cat.Has(lang, k) {
				t.Errorf("%s: key %q missing in %s", r.ID, k, lang)
			}
		}
		for _, s := range []string{r.Text(cat, lang), r.FixText(cat, lang)} {
			if strings.Contains(s, "%!") {
				t.Errorf("%s: bad arguments in %s text %q", r.ID, lang, s)
			}
		}
	}
}
