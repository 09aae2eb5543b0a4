package tui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// fakeSys is a healthy Debian server that sends nothing anywhere: the screens are drawn from it.
// With loopback it may reach servers the test started on 127.0.0.1 (the mail step's live login).
type fakeSys struct{ blocked, loopback bool }

func (f *fakeSys) Now() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }
func (f *fakeSys) OS() installer.OSInfo {
	return installer.OSInfo{GOOS: "linux", Arch: "amd64", ID: "debian", VersionID: "12", Pretty: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-18-amd64"}
}
func (f *fakeSys) EUID() int { return 0 }
func (f *fakeSys) Systemd() installer.SystemdInfo {
	return installer.SystemdInfo{Running: true, Version: 252}
}
func (f *fakeSys) TUN() error { return nil }
func (f *fakeSys) WireGuardModule() error {
	return errors.New("wireguard: no kernel module for Linux 6.1.0-18-amd64")
}
func (f *fakeSys) WireGuardLink(name string) (string, error) {
	return "", errors.New("no interface " + name)
}
func (f *fakeSys) Bind(string, string, int) error   { return nil }
func (f *fakeSys) PortOwner(string, int) string     { return "" }
func (f *fakeSys) Firewall() installer.FirewallInfo { return installer.FirewallInfo{} }
func (f *fakeSys) TimeSync() installer.TimeSyncInfo {
	return installer.TimeSyncInfo{Known: true, Synchronized: true, Source: "systemd-timesyncd"}
}
func (f *fakeSys) DiskFree(string) (uint64, error) { return 40 << 30, nil }
func (f *fakeSys) Memory() (uint64, error) {
	if f.blocked {
		return 256 << 20, nil
	}
	return 4 << 30, nil
}
func (f *fakeSys) Routes() ([]installer.Route, error) {
	return []installer.Route{{Dst: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"}}, nil
}
func (f *fakeSys) Addrs() ([]installer.Addr, error) {
	return []installer.Addr{{Iface: "eth0", Prefix: netip.MustParsePrefix("192.168.1.10/24")}}, nil
}
func (f *fakeSys) Hostname() string { return "rocca.comune.esempio.it" }
func (f *fakeSys) LookupHost(_ context.Context, host string) ([]netip.Addr, error) {
	if host == "rocca.comune.esempio.it" {
		return []netip.Addr{netip.MustParseAddr("192.168.1.10")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
func (f *fakeSys) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if host, _, _ := net.SplitHostPort(address); f.loopback && host == "127.0.0.1" {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	return nil, errors.New("fakeSys: no network in screen tests")
}
func (f *fakeSys) LookupUser(string) (int, int, error) { return 0, 0, errors.New("no such user") }
func (f *fakeSys) Command(context.Context, string, ...string) ([]byte, error) {
	return nil, errors.New("fakeSys: no commands")
}
func (f *fakeSys) HasCommand(string) bool { return false }

// testOptions are the wizard's options over the fake system, installing under prefix.
func testOptions(t *testing.T, prefix string, env ...string) Options {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := installer.New(&fakeSys{}, installer.NewPaths(prefix), cat, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	inst.Exe = filepath.Join(t.TempDir(), "rocca")
	if err := os.WriteFile(inst.Exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if len(env) == 0 {
		env = []string{"TERM=xterm-256color", "LANG=it_IT.UTF-8"}
	}
	return Options{Installer: inst, Lang: "it", Env: env}
}
