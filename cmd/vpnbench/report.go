package main

import (
	"debug/buildinfo"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rocca-pa/rocca/internal/benchenv"
)

// results are the figures of one run.
type results struct {
	started, finished   time.Time
	mode                string
	apiAdds, fillAdds   []time.Duration
	apiTotal, fillTotal time.Duration
	incAdds, syncs      []time.Duration
	fullAdds            []time.Duration
	fullRevokes         []time.Duration
	fullIDs             []int64
	rss0, rssAPI        int64
	rssFull, rssIdle    int64
	rssEnd, hwm         int64
	idle                idleFigures // the 30 s idle at full size
	restart             time.Duration
	rssLimit            int64       // after the restart with -memlimit, 30 s idle
	limitIdle           idleFigures // that idle
	alone0, alone       aloneFigures
	ext                 externalFigures
}

// idleFigures are the runtime's figures after 30 s idle, with the garbage collections and the CPU
// time of those 30 s (from the Prometheus endpoint).
type idleFigures struct {
	metrics  map[string]float64
	gcs, cpu float64
	alloc    float64 // bytes allocated in the 30 s
	// VmRSS read once a second during the 30 s: mean and highest.
	rssMean, rssMax int64
	// at the end: resident pages of files (the binary's code and data) and anonymous memory
	rssFile, rssAnon int64
}

// pct is the nearest-rank percentile q (0 < q <= 1) of d.
func pct(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.3f ms", float64(d)/1e6)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

// write renders the fragment to -out (and stdout).
func (b *bench) write() error {
	r, o := b.r, b.o
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	n, n1 := thousands(o.peers), thousands(o.peers+1)

	p("## VPN: peers on a live interface (cmd/vpnbench)")
	p("")
	p("Written by `make bench` through `cmd/vpnbench`; reproduce with `sudo make bench`, or this part alone with")
	p("`make build && sudo go run -tags sqlite_fts5 ./cmd/vpnbench -rocca bin/rocca` (flags: `-peers`, `-api`, `-adds`,")
	p("`-syncs`, `-memlimit`, `-external`, `-ext-memlimit`). The built `rocca serve` runs with `[vpn] mode = \"userspace\"`")
	p("(embedded wireguard-go, interface mode %q) as a whole process inside a network namespace the tool creates and", r.mode)
	p("removes; subnet %s, %d employees owning the devices, pre-shared keys on (the default).", subnet, o.owners)
	if o.external {
		p("At the end the same devices are measured with `mode = \"external\"` and Debian's wireguard-go running the")
		p("interface (last section): Rocca's own memory.")
	}
	p("One run, on a shared machine: expect some spread between runs.")
	p("")
	p("- date: %s, run took %s", r.started.UTC().Format("2006-01-02 15:04 UTC"), r.finished.Sub(r.started).Round(time.Second))
	p("- machine: %s", machine())
	p("- software: %s", software(o.rocca))
	p("")
	inc50, sync50 := pct(r.incAdds, 0.5), pct(r.syncs, 0.5)
	full50 := pct(r.fullAdds, 0.5)
	p("### Adding one peer to the live interface holding %s peers", n)
	p("")
	p("| how | runs | p50 | p99 | min | max |")
	p("|---|---:|---:|---:|---:|---:|")
	row := func(what string, d []time.Duration) {
		p("| %s | %d | %s | %s | %s | %s |", what, len(d), ms(pct(d, 0.5)), ms(pct(d, 0.99)), ms(slices.Min(d)), ms(slices.Max(d)))
	}
	row("incremental `ConfigureDevice` of the one new peer (`ReplacePeers=false`, as package vpn applies changes)", r.incAdds)
	row(fmt.Sprintf("full config: `wg syncconf` of the same %s peers (Debian's wg, same interface)", n1), r.syncs)
	row("a new device through the API (`POST /api/vpn/peers`: key pair, database, interface, firewall, config)", r.fullAdds)
	row("revoking it through the API (`POST /api/vpn/peers/{id}/revoke`)", r.fullRevokes)
	p("")
	p("- incremental vs `wg syncconf` (p50): **%.0f×** faster; goal ≥ 10×: %s.", float64(sync50)/float64(inc50), verdict(float64(sync50) >= 10*float64(inc50)))
	p("- a whole device through the API vs `wg syncconf` (p50): **%.1f×** faster; goal ≥ 10×: %s. The API add does more than", float64(sync50)/float64(full50), verdict(float64(sync50) >= 10*float64(full50)))
	p("  change the interface: the HTTP request and its token, a key pair and a pre-shared key, the lowest free address")
	p("  (counted in an index of the database), the database transaction and the audit entry, the peer on the interface,")
	p("  and the device's address added to its set in the nftables table (one netlink transaction; the rules stay as")
	p("  they are). None of these steps reads every device, so the cost hardly grows with their number.")
	p("")
	p("### Creating devices through the API")
	p("")
	p("| what | devices | total | per device p50 | p99 | max |")
	p("|---|---:|---:|---:|---:|---:|")
	p("| HTTP JSON API with a token (`POST /api/vpn/peers`), from an empty interface | %s | %s | %s | %s | %s |",
		thousands(len(r.apiAdds)), r.apiTotal.Round(time.Millisecond), ms(pct(r.apiAdds, 0.5)), ms(pct(r.apiAdds, 0.99)), ms(slices.Max(r.apiAdds)))
	if len(r.fillAdds) > 0 {
		p("| admin socket (`rocca vpn peer add`'s route), from %s to %s devices | %s | %s | %s | %s | %s |",
			thousands(o.api), n, thousands(len(r.fillAdds)), r.fillTotal.Round(time.Millisecond), ms(pct(r.fillAdds, 0.5)), ms(pct(r.fillAdds, 0.99)), ms(slices.Max(r.fillAdds)))
		last := r.fillAdds[max(0, len(r.fillAdds)-500):]
		p("| of which the last 500 (%s devices and more) | %d | | %s | %s | %s |", thousands(o.peers-len(last)), len(last), ms(pct(last, 0.5)), ms(pct(last, 0.99)), ms(slices.Max(last)))
	}
	p("")
	p("### Memory of rocca serve (VmRSS)")
	p("")
	p("| devices | VmRSS |")
	p("|---|---:|")
	p("| 0 (VPN up, %d users) | %s |", o.owners+1, mib(r.rss0))
	p("| %s (after the API adds) | %s |", thousands(o.api), mib(r.rssAPI))
	p("| %s, right after the adds | %s |", n, mib(r.rssFull))
	p("| %s, after 30 s idle | %s |", n, mib(r.rssIdle))
	p("| %s, at the end of the run | %s |", n, mib(r.rssEnd))
	p("| peak of the run (VmHWM) | %s |", mib(r.hwm))
	if o.memLimit > 0 {
		p("| %s, restarted with `memory_limit_mb = %d`, after 30 s idle | %s |", n, o.memLimit, mib(r.rssLimit))
	}
	p("")
	p("- goal ≤ 100 MB with %s devices (idle): %s (%s with Go's default garbage collection).", n, verdict(r.rssIdle <= 100*1000*1000), mib(r.rssIdle))
	if o.memLimit > 0 {
		p("  With `memory_limit_mb = %d`: %s. In userspace mode the embedded wireguard-go alone holds %s with these peers", o.memLimit, mib(r.rssLimit), mib(r.alone.RSS))
		p("  (see below), so there the goal is out of reach without changing wireguard-go.")
	}
	p("- at start, package auth hashes a dummy password with argon2id (64 MiB), so that unknown accounts take as long")
	p("  to refuse as known ones; that memory is given back to the system right after. Every password check hashes")
	p("  again (the tool creates the administrator with a password and signs in once, between the first two rows),")
	p("  and that memory too goes back to the system when the last check in progress ends.")
	runtimeLine := func(what string, f idleFigures) {
		m := f.metrics
		if len(m) == 0 {
			return
		}
		p("- %s: %.0f goroutines, heap in use %s, goroutine stacks %s,", what, m["go_goroutines"],
			mib(int64(m["go_memstats_heap_inuse_bytes"])), mib(int64(m["go_memstats_stack_inuse_bytes"])))
		p("  obtained from the OS %s; in the 30 s idle %.0f garbage collections and %.2f s of CPU.",
			mib(int64(m["go_memstats_sys_bytes"])), f.gcs, f.cpu)
	}
	runtimeLine(fmt.Sprintf("Go runtime at %s devices, idle, no memory limit", n), r.idle)
	if o.memLimit > 0 {
		runtimeLine(fmt.Sprintf("the same after a restart with `memory_limit_mb = %d`", o.memLimit), r.limitIdle)
		p("- after that restart the %s devices were back on the rebuilt interface %s after the process started.", n, r.restart.Round(time.Millisecond))
	}
	p("- without a limit Go lets the heap grow to twice what is live before collecting; the reconcile pass every 10 s")
	p("  reads every device and the interface, which leaves garbage: package vpn's own share is a few flat allocations")
	p("  (`BenchmarkReconcile` in the Go benchmarks above); reading the interface through wgctrl and the rows through the")
	p("  SQLite driver allocate more. `[server] memory_limit_mb` makes the collector run as the process nears the limit")
	p("  instead (docs/operations.md).")
	p("")
	p("### The embedded wireguard-go alone")
	p("")
	p("A process started by vpnbench in the same namespace that opens the same kind of userspace device (TUN, default")
	p("UDP bind, MTU 1420) with the same peers (key, pre-shared key, one /32), and does nothing else; read after a")
	p("garbage collection. What rocca serve holds beyond it is Rocca's own: database, web server, package vpn, and the")
	p("runtime of a bigger program. rocca serve is read between its garbage collections, so its figures also hold")
	p("garbage not yet collected (each reconcile pass reads every device): the difference is an upper bound.")
	p("")
	p("| process | VmRSS | heap in use | goroutine stacks | goroutines |")
	p("|---|---:|---:|---:|---:|")
	alone := func(what string, f aloneFigures) {
		p("| %s | %s | %s | %s | %d |", what, mib(f.RSS), mib(f.HeapInuse), mib(f.StackInuse), f.Goroutines)
	}
	alone("wireguard-go alone, 0 peers", r.alone0)
	alone(fmt.Sprintf("wireguard-go alone, %s peers", n), r.alone)
	ref, refRSS, refWhat := r.idle.metrics, r.rssIdle, "idle, no memory limit"
	if o.memLimit > 0 && len(r.limitIdle.metrics) > 0 {
		ref, refRSS, refWhat = r.limitIdle.metrics, r.rssLimit, fmt.Sprintf("idle, `memory_limit_mb = %d`", o.memLimit)
	}
	heap, stacks := int64(ref["go_memstats_heap_inuse_bytes"]), int64(ref["go_memstats_stack_inuse_bytes"])
	p("| rocca serve, %s devices, %s | %s | %s | %s | %.0f |", n, refWhat, mib(refRSS), mib(heap), mib(stacks), ref["go_goroutines"])
	p("| difference: Rocca's own share | %s | %s | %s | |", mib(refRSS-r.alone.RSS), mib(heap-r.alone.HeapInuse), mib(stacks-r.alone.StackInuse))
	p("")
	if r.alone.Peers > 0 {
		per := float64(r.alone.RSS-r.alone0.RSS) / float64(r.alone.Peers)
		p("- wireguard-go costs %.0f KiB of resident memory per peer (two goroutines, an inbound and an outbound queue of", per/1024)
		p("  1,024 entries, timers) plus %s for the device itself; in userspace mode that alone is above the 100 MB goal", mib(r.alone0.RSS))
		p("  from about %s peers.", thousands(int(max(0, 100*1000*1000-float64(r.alone0.RSS))/per)))
	}
	p("- in kernel mode the peers live in the kernel and wireguard-go is not in the process; this kernel has no WireGuard")
	if o.external {
		p("  module, so that mode is not measured here; external mode (below) is, and leaves the same in the process.")
		b.writeExternal(p, refRSS-r.alone.RSS)
	} else {
		p("  module, so that mode is not measured here. rocca serve would then hold at most about the difference above (an")
		p("  estimate, not a measurement: %s of VmRSS, %s of heap).", mib(refRSS-r.alone.RSS), mib(heap-r.alone.HeapInuse))
	}
	out := w.String()
	fmt.Print(out)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(out), 0o644); err != nil {
		return err
	}
	b.logf("wrote %s", o.out)
	return nil
}

// machine describes the host: cores, memory, CPU model, kernel.
func machine() string { return benchenv.Machine() }

// software names the rocca build (commit, Go, wireguard-go) and the wg tool.
func software(bin string) string {
	parts := []string{}
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value[:min(12, len(s.Value))]
			case "vcs.modified":
				if s.Value == "true" {
					dirty = " (uncommitted changes)"
				}
			}
		}
		if rev == "" { // built without VCS stamping: the checkout the bench runs in
			if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
				rev = strings.TrimSpace(string(out))
			}
			if out, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(out) > 0 {
				dirty = " (uncommitted changes)"
			}
		}
		if rev != "" {
			parts = append(parts, "rocca "+rev+dirty)
		}
		parts = append(parts, bi.GoVersion)
		for _, d := range bi.Deps {
			if d.Path == "golang.zx2c4.com/wireguard" {
				parts = append(parts, "wireguard-go "+d.Version)
			}
		}
	}
	if v, err := exec.Command("wg", "--version").Output(); err == nil {
		parts = append(parts, strings.TrimSpace(string(v)))
	}
	return strings.Join(parts, ", ")
}
