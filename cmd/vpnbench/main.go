// Command vpnbench measures the VPN part of the built binary for docs/benchmarks.md (`make bench`
// runs it; it writes the fragment docs/bench/vpn.md). It starts `rocca serve` with the VPN in
// userspace mode inside a network namespace it creates, and records:
//
//   - devices created through the HTTP JSON API with a token (total, per device p50/p99);
//   - with the interface holding -peers devices: the time to add one peer incrementally
//     (wgctrl ConfigureDevice without ReplacePeers, what package vpn does) side by side with a
//     full-config `wg syncconf` of the same peers plus one (Debian's wg), and the time to add and
//     to revoke one device through the API, database and firewall included;
//   - the resident memory (VmRSS) of the rocca serve process along the way, again after a restart
//     with a soft memory limit ([server] memory_limit_mb), and that of the embedded wireguard-go
//     alone with the same peers (see alone.go), to tell wireguard-go's share from Rocca's own;
//   - Rocca's own memory measured directly: the same devices on an interface that Debian's
//     wireguard-go runs as a process of its own, with rocca serve in external mode (external.go).
//
// It must run as root and cleans up its namespace, processes and files, also on failure or Ctrl-C.
// It imports the vpn and adminapi packages only for their request types and the socket client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	var o options
	flag.StringVar(&o.rocca, "rocca", envOr("ROCCA_BIN", "bin/rocca"), "the rocca binary to run (make build)")
	flag.StringVar(&o.out, "out", "docs/bench/vpn.md", "the markdown fragment to write")
	flag.IntVar(&o.peers, "peers", 5000, "devices on the interface for the single-add, syncconf and memory figures")
	flag.IntVar(&o.api, "api", 1000, "devices created first through the HTTP JSON API, timed one by one")
	flag.IntVar(&o.adds, "adds", 200, "timed single-peer adds (and revokes) on the full interface")
	flag.IntVar(&o.syncs, "syncs", 10, "timed `wg syncconf` runs on the full interface")
	flag.IntVar(&o.owners, "owners", 250, "employees owning the devices")
	flag.IntVar(&o.memLimit, "memlimit", 300, "memory_limit_mb for the restart at full size (0: no restart)")
	flag.BoolVar(&o.external, "external", true, "also measure rocca serve in external mode, with Debian's wireguard-go running the interface")
	flag.IntVar(&o.extMemLimit, "ext-memlimit", 100, "memory_limit_mb for the restart in external mode (0: no restart)")
	aloneIface := flag.String("alone-iface", "", "internal: run the wireguard-go-alone measurement on this interface")
	alonePeers := flag.Int("alone-peers", 0, "internal: peers for -alone-iface")
	flag.Parse()
	if *aloneIface != "" { // vpnbench started by itself inside the namespace
		if err := runAlone(*aloneIface, *alonePeers); err != nil {
			fmt.Fprintln(os.Stderr, "vpnbench alone:", err)
			os.Exit(1)
		}
		return
	}
	if err := preflight(o); err != nil {
		fmt.Fprintln(os.Stderr, "vpnbench:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	b := &bench{o: o}
	err := b.run(ctx)
	stop()
	if err != nil {
		b.printLogTail(40)
	}
	b.cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vpnbench:", err)
		os.Exit(1)
	}
}

type options struct {
	rocca, out                      string
	peers, api, adds, syncs, owners int
	memLimit                        int  // MiB
	external                        bool // run the external-mode phase
	extMemLimit                     int  // MiB, for the external-mode restart
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// preflight says what is missing before anything is created.
func preflight(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root: it creates a network namespace and a WireGuard interface (run `sudo make bench`, or SKIP_VPNBENCH=1 make bench to leave the VPN figures out)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return errors.New("/dev/net/tun is missing: the userspace WireGuard interface needs it")
	}
	for _, bin := range []string{"ip", "wg"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found: install iproute2 and wireguard-tools", bin)
		}
	}
	if _, err := exec.LookPath("wireguard-go"); o.external && err != nil {
		return errors.New("wireguard-go not found: install Debian's wireguard-go for the external-mode figures, or pass -external=false")
	}
	if fi, err := os.Stat(o.rocca); err != nil || fi.IsDir() {
		return fmt.Errorf("rocca binary %s not found: run `make build` or pass -rocca", o.rocca)
	}
	if o.api < 1 || o.peers < o.api || o.adds < 1 || o.syncs < 1 || o.owners < 1 || o.memLimit != 0 && o.memLimit < 64 || o.extMemLimit != 0 && o.extMemLimit < 32 {
		return errors.New("want 1 <= -api <= -peers, -adds >= 1, -syncs >= 1, -owners >= 1, -memlimit 0 or >= 64, -ext-memlimit 0 or >= 32")
	}
	if o.peers+2*o.adds+o.syncs+16 > 65000 {
		return errors.New("-peers too large for the 10.86.0.0/16 test network")
	}
	return nil
}
