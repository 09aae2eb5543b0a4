package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// The memory of rocca serve in userspace mode includes the embedded wireguard-go device. To tell
// the two apart, vpnbench starts itself again inside the namespace in "alone" mode: a process that
// opens the same kind of device (TUN, the default UDP bind, MTU 1420) and gives it the same number
// of peers (key, pre-shared key, one /32 each) as package vpn does, and nothing else. Its memory is
// what wireguard-go costs; what rocca serve holds beyond it is Rocca's own (the database, the web
// server, the caches of package vpn, the Go runtime of a bigger program), which is about what
// rocca serve would hold in kernel mode, where the peers live in the kernel.

// aloneFigures is what the alone mode prints on stdout, as JSON.
type aloneFigures struct {
	Peers      int   `json:"peers"`
	RSS        int64 `json:"rss"`
	HeapInuse  int64 `json:"heap_inuse"`
	StackInuse int64 `json:"stack_inuse"`
	Goroutines int   `json:"goroutines"`
}

// runAlone is the alone mode: the device iface with n peers, measured after a garbage collection.
func runAlone(iface string, n int) error {
	tdev, err := tun.CreateTUN(iface, 1420)
	if err != nil {
		return fmt.Errorf("create tun %s: %w", iface, err)
	}
	dev := device.NewDevice(tdev, conn.NewDefaultBind(), device.NewLogger(device.LogLevelSilent, ""))
	defer dev.Close()
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "private_key=%s\nlisten_port=51821\n", hex.EncodeToString(key[:]))
	for i := range n {
		pc, err := newPeer(netip.AddrFrom4(aloneAddr(i)))
		if err != nil {
			return err
		}
		fmt.Fprintf(&cfg, "public_key=%s\npreshared_key=%s\nreplace_allowed_ips=true\nallowed_ip=%s\n",
			hex.EncodeToString(pc.PublicKey[:]), hex.EncodeToString(pc.PresharedKey[:]), &pc.AllowedIPs[0])
	}
	if err := dev.IpcSet(cfg.String()); err != nil {
		return fmt.Errorf("configure %s: %w", iface, err)
	}
	if err := dev.Up(); err != nil {
		return fmt.Errorf("start %s: %w", iface, err)
	}
	if out, err := exec.Command("ip", "link", "set", iface, "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set %s up: %v: %s", iface, err, out)
	}
	cfg.Reset()
	time.Sleep(5 * time.Second) // every peer's goroutines running, the device settled
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	f := aloneFigures{Peers: n, RSS: procStatus(os.Getpid(), "VmRSS"), HeapInuse: int64(m.HeapInuse),
		StackInuse: int64(m.StackInuse), Goroutines: runtime.NumGoroutine()}
	return json.NewEncoder(os.Stdout).Encode(f)
}

// aloneAddr is the address of peer i in 10.87.0.0/16, away from rocca's network.
func aloneAddr(i int) [4]byte { return [4]byte{10, 87, byte(i / 250), byte(1 + i%250)} }

// measureAlone runs the alone mode with n peers inside the namespace and returns its figures.
func (b *bench) measureAlone(ctx context.Context, n int) (aloneFigures, error) {
	exe, err := os.Executable()
	if err != nil {
		return aloneFigures{}, err
	}
	iface := fmt.Sprintf("rvw%s", b.tag)
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", b.ns, exe, "-alone-iface", iface, "-alone-peers", fmt.Sprint(n))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return aloneFigures{}, fmt.Errorf("wireguard-go alone with %d peers: %v: %s", n, err, strings.TrimSpace(stderr.String()))
	}
	var f aloneFigures
	if err := json.Unmarshal(out, &f); err != nil {
		return f, fmt.Errorf("wireguard-go alone: %w (%q)", err, out)
	}
	return f, nil
}
