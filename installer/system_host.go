package installer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Host is the real machine. Its methods read /proc, /sys, /etc and /run, try ports, and run
// systemctl, useradd and the time tools; DNS and mail connections go only to the names given.
type Host struct{}

// NewHost returns the real system.
func NewHost() *Host { return &Host{} }

func (*Host) Now() time.Time { return time.Now() }

func (*Host) EUID() int { return os.Geteuid() }

func (*Host) OS() OSInfo {
	o := OSInfo{GOOS: runtime.GOOS, Arch: runtime.GOARCH}
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		kv := parseOSRelease(data)
		o.ID, o.VersionID, o.Pretty = kv["ID"], kv["VERSION_ID"], kv["PRETTY_NAME"]
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		o.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return o
}

// parseOSRelease reads KEY=value lines, unquoting values.
func parseOSRelease(data []byte) map[string]string {
	kv := map[string]string{}
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		} else {
			v = strings.Trim(v, `'"`)
		}
		kv[k] = v
	}
	return kv
}

func (h *Host) Systemd() SystemdInfo {
	st, err := os.Stat("/run/systemd/system")
	s := SystemdInfo{Running: err == nil && st.IsDir()}
	if out, err := exec.Command("systemctl", "--version").Output(); err == nil {
		fields := strings.Fields(string(out))
		if len(fields) > 1 {
			s.Version, _ = strconv.Atoi(fields[1])
		}
	}
	return s
}

func (*Host) TUN() error {
	st, err := os.Stat("/dev/net/tun")
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeCharDevice == 0 {
		return fmt.Errorf("/dev/net/tun is not a character device")
	}
	return nil
}

// WireGuardModule looks for the module without loading it: loaded or built in (/sys/module), or
// installed for the running kernel (modules.dep, modules.builtin). Nothing on the system changes.
func (h *Host) WireGuardModule() error {
	if _, err := os.Stat("/sys/module/wireguard"); err == nil {
		return nil
	}
	dir := filepath.Join("/lib/modules", h.OS().Kernel)
	for _, f := range []string{"modules.dep", "modules.builtin"} {
		if data, err := os.ReadFile(filepath.Join(dir, f)); err == nil && bytes.Contains(data, []byte("/wireguard.ko")) {
			return nil
		}
	}
	return errors.New("wireguard: no kernel module for Linux " + h.OS().Kernel)
}

// WireGuardLink looks the interface up through netlink: a kernel WireGuard link, or a TUN link
// with the control socket wireguard-go opens in /var/run/wireguard. Nothing on the system changes.
func (*Host) WireGuardLink(name string) (string, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return "", fmt.Errorf("no interface %s: %w", name, err)
	}
	switch l.Type() {
	case "wireguard":
		return "kernel", nil
	case "tun":
		sock := "/var/run/wireguard/" + name + ".sock"
		if _, err := os.Stat(sock); err != nil {
			return "", fmt.Errorf("%s is a TUN interface without the wireguard-go control socket %s", name, sock)
		}
		return "wireguard-go", nil
	}
	return "", fmt.Errorf("%s is an interface of type %s, not WireGuard", name, l.Type())
}

func (*Host) Bind(proto, host string, port int) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

func (*Host) PortOwner(proto string, port int) string {
	inodes := socketInodes(proto, port)
	if len(inodes) == 0 {
		return ""
	}
	return processWithSocket(inodes)
}

func (*Host) DiskFree(path string) (uint64, error) {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		var st unix.Statfs_t
		err := unix.Statfs(p, &st)
		if err == nil {
			return st.Bavail * uint64(st.Bsize), nil
		}
		if !errors.Is(err, unix.ENOENT) || p == filepath.Dir(p) {
			return 0, err
		}
	}
}

func (*Host) Memory() (uint64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("/proc/meminfo: no MemTotal")
}

func (*Host) Routes() ([]Route, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	var out []Route
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		a, ok := netip.AddrFromSlice(r.Dst.IP.To4())
		if !ok {
			continue
		}
		if _, seen := names[r.LinkIndex]; !seen {
			if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
				names[r.LinkIndex] = l.Attrs().Name
			}
		}
		out = append(out, Route{Dst: netip.PrefixFrom(a, ones).Masked(), Iface: names[r.LinkIndex]})
	}
	return out, nil
}

func (*Host) Addrs() ([]Addr, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []Addr
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, _ := netip.AddrFromSlice(n.IP)
			ones, _ := n.Mask.Size()
			out = append(out, Addr{Iface: ifc.Name, Prefix: netip.PrefixFrom(ip.Unmap(), ones)})
		}
	}
	return out, nil
}

// Hostname is the kernel's host name, made fully qualified from /etc/hosts when that file gives a
// longer alias (Debian writes "127.0.1.1 host.domain host"). It asks no DNS server.
func (*Host) Hostname() string {
	name, err := os.Hostname()
	if err != nil {
		return ""
	}
	if strings.Contains(name, ".") {
		return name
	}
	data, err := os.ReadFile("/etc/hosts")
	if err != nil {
		return name
	}
	return fqdnFromHosts(data, name)
}

// fqdnFromHosts finds, on a line that names short, an alias that starts with short and a dot.
func fqdnFromHosts(hosts []byte, short string) string {
	for line := range strings.SplitSeq(string(hosts), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, short+".") {
				return f
			}
		}
	}
	return short
}

func (*Host) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

func (*Host) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func (*Host) LookupUser(name string) (int, int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	return uid, gid, errors.Join(err1, err2)
}

func (*Host) Command(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

func (*Host) HasCommand(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
