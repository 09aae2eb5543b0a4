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
	applyPhase          []time.Duration // of fullAdds: interface and firewall, from the server's log
	rss0, rssAPI        int64
	rssFull, rssIdle    int64
	rssEnd, hwm         int64
	metrics             map[string]float64
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
	p("`make build && sudo go run -tags sqlite_fts5 ./cmd/vpnbench -rocca bin/rocca` (flags: `-peers`, `-api`, `-adds`, `-syncs`).")
	p("The built `rocca serve` runs with `[vpn] mode = \"userspace\"` (embedded wireguard-go, interface mode %q) as a", r.mode)
	p("whole process inside a network namespace the tool creates and removes; subnet %s, %d employees owning", subnet, o.owners)
	p("the devices, pre-shared keys on (the default). One run, on a shared machine: expect some spread between runs.")
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
	p("- a whole device through the API vs `wg syncconf` (p50): %.1f×: not 10×. The API add does more than change the", float64(sync50)/float64(full50))
	p("  interface: it allocates an address, writes the database and the audit log, then re-reads every live device")
	p("  to compute the access rules and replaces the whole nftables table (the devices' addresses are in its rules),")
	p("  so its cost grows with the number of devices.")
	if len(r.applyPhase) > 0 {
		p("  From the server's log, the step after the database write (peer on the interface, rules recomputed, nftables")
		p("  table replaced) took p50 %s, p99 %s of the API add's %s.", ms(pct(r.applyPhase, 0.5)), ms(pct(r.applyPhase, 0.99)), ms(full50))
	}
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
	p("")
	p("- goal ≤ 100 MB with %s devices (idle): %s (%s).", n, verdict(r.rssIdle <= 100*1000*1000), mib(r.rssIdle))
	p("- the figure with no devices already holds what package auth touches at start: it hashes a dummy password")
	p("  with argon2id (64 MiB), so that unknown accounts take as long to refuse as known ones.")
	if m := r.metrics; len(m) > 0 {
		p("- Go runtime at %s devices, idle (Prometheus endpoint): %.0f goroutines, heap in use %s, goroutine stacks %s, obtained from the OS %s.",
			n, m["go_goroutines"], mib(int64(m["go_memstats_heap_inuse_bytes"])), mib(int64(m["go_memstats_stack_inuse_bytes"])), mib(int64(m["go_memstats_sys_bytes"])))
		p("  The embedded wireguard-go gives every peer two goroutines and three packet queues; those, not the")
		p("  database, grow with the number of devices.")
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
