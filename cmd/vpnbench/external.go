package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// In external mode the interface belongs to another program: here Debian's wireguard-go, started
// by vpnbench in the namespace as a wireguard-go service would run it. rocca serve then holds no
// WireGuard engine, so its VmRSS is Rocca's own memory, read directly instead of estimated by
// subtracting wireguard-go alone. The database is the one of the userspace run, with -peers
// devices: the first start in external mode puts them all on the new, empty interface.

// externalFigures are the figures of the external-mode phase.
type externalFigures struct {
	apply      time.Duration // from the start of rocca serve to every device on the interface
	rssApplied int64         // VmRSS right then
	rssIdle    int64         // after 30 s idle
	idle       idleFigures
	rssLogin   int64 // after one sign-in and 30 s idle
	loginIdle  idleFigures
	hwm        int64 // VmHWM of that process: start, apply, idle, sign-in, idle
	engineRSS  int64 // wireguard-go's VmRSS with the devices
	kept       int   // peers on the interface while rocca serve was stopped
	restart    time.Duration
	rssLimit   int64 // restarted with -ext-memlimit, after 30 s idle
	limitIdle  idleFigures
	rssLimitIn int64 // the same after one sign-in and 30 s idle
	limitLogin idleFigures
	hwmLimit   int64
}

// externalPhase runs rocca serve in external mode on an interface of Debian's wireguard-go.
func (b *bench) externalPhase(ctx context.Context) error {
	if !b.o.external {
		return nil
	}
	e := &b.r.ext
	b.logf("external mode: Debian's wireguard-go runs %s, rocca serve configures it", b.iface)
	b.stopServer() // its userspace interface goes away with it
	if err := b.startEngine(ctx); err != nil {
		return err
	}
	if err := b.writeConfig("external", 0); err != nil {
		return err
	}
	start := time.Now()
	if err := b.startServer(ctx); err != nil {
		return err
	}
	if b.mode != "external" {
		return fmt.Errorf("rocca serve reports mode %q, want external", b.mode)
	}
	if err := b.waitPeers(ctx, start); err != nil {
		return err
	}
	e.apply = time.Since(start)
	e.rssApplied = b.rss()
	b.logf("%d devices on wireguard-go's interface %s after the start; idle for 30 s", b.o.peers, e.apply.Round(time.Millisecond))
	var err error
	if e.rssIdle, e.idle, err = b.idle(ctx); err != nil {
		return err
	}
	b.logf("one sign-in, then idle for 30 s")
	if _, err := b.signIn(ctx); err != nil {
		return err
	}
	if e.rssLogin, e.loginIdle, err = b.idle(ctx); err != nil {
		return err
	}
	e.hwm = procStatus(b.cmd.Process.Pid, "VmHWM")
	e.engineRSS = procStatus(b.engine.Process.Pid, "VmRSS")
	if b.o.extMemLimit == 0 {
		return nil
	}

	b.logf("restarting rocca serve in external mode with memory_limit_mb = %d", b.o.extMemLimit)
	b.stopServer()
	e.kept = b.devicePeers() // the interface is wireguard-go's: stopping Rocca leaves it as it is
	if err := b.writeConfig("external", b.o.extMemLimit); err != nil {
		return err
	}
	start = time.Now()
	if err := b.startServer(ctx); err != nil {
		return err
	}
	if err := b.waitPeers(ctx, start); err != nil {
		return err
	}
	e.restart = time.Since(start)
	if e.rssLimit, e.limitIdle, err = b.idle(ctx); err != nil {
		return err
	}
	if _, err := b.signIn(ctx); err != nil {
		return err
	}
	if e.rssLimitIn, e.limitLogin, err = b.idle(ctx); err != nil {
		return err
	}
	e.hwmLimit = procStatus(b.cmd.Process.Pid, "VmHWM")
	b.stopServer()
	b.stopEngine()
	return nil
}

// waitPeers waits up to a minute from start for -peers devices on the interface.
func (b *bench) waitPeers(ctx context.Context, start time.Time) error {
	for b.devicePeers() != b.o.peers {
		if time.Since(start) > 60*time.Second {
			return fmt.Errorf("the interface holds %d peers, want %d", b.devicePeers(), b.o.peers)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// startEngine runs Debian's `wireguard-go -f IFACE` in the namespace and waits for its UAPI socket.
func (b *bench) startEngine(ctx context.Context) error {
	logFile, err := os.OpenFile(filepath.Join(b.dir, "wireguard-go.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// ip execs wireguard-go after entering the namespace: the process is wireguard-go itself.
	b.engine = exec.Command("ip", "netns", "exec", b.ns, "wireguard-go", "-f", b.iface)
	b.engine.Env = append(os.Environ(), "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")
	b.engine.Stdout, b.engine.Stderr = logFile, logFile
	if err := b.engine.Start(); err != nil {
		b.engine = nil
		return fmt.Errorf("start wireguard-go: %w", err)
	}
	done := make(chan struct{})
	b.engineDone = done
	go func(cmd *exec.Cmd) { cmd.Wait(); close(done) }(b.engine)
	sock := "/var/run/wireguard/" + b.iface + ".sock"
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case <-done:
			return errors.New("wireguard-go exited during start (see wireguard-go.log)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wireguard-go opened no socket %s within 10 s", sock)
		}
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", b.engine.Process.Pid)); filepath.Base(exe) != "wireguard-go" {
		return fmt.Errorf("process %d runs %q, not wireguard-go: cannot read its memory", b.engine.Process.Pid, exe)
	}
	return nil
}

// stopEngine stops wireguard-go (SIGTERM: it deletes its interface and socket).
func (b *bench) stopEngine() {
	if b.engine == nil || b.engine.Process == nil {
		return
	}
	b.engine.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.engineDone:
	case <-time.After(10 * time.Second):
		b.engine.Process.Kill()
		<-b.engineDone
	}
	b.engine = nil
}

// writeExternal renders the external-mode section of the report with p; estimate is the share of
// Rocca estimated above by subtraction.
func (b *bench) writeExternal(p func(format string, args ...any), estimate int64) {
	o, e := b.o, b.r.ext
	n := thousands(o.peers)
	p("")
	p("### Rocca's own memory: external mode, with Debian's wireguard-go running the interface")
	p("")
	p("The same database and %s devices, after the runs above. vpnbench starts Debian's `wireguard-go -f` (its own", n)
	p("process, as a wireguard-go systemd service would run it) in the namespace, then `rocca serve` with `[vpn] mode =")
	p("\"external\"`: Rocca configures that interface (key, port, address, the %s peers, nftables) and holds no", n)
	p("WireGuard engine, so its VmRSS below is Rocca's own memory, read directly from /proc (no subtraction). The")
	p("process's first reconcile pass puts every device on the new, empty interface; the sign-in is an administrator")
	p("signing in through the login form once (its password hashed with argon2id, 64 MiB). *Allocated* counts what")
	p("the process allocated in the 30 s: three reconcile passes (each reads every device from the database and the")
	p("interface through wgctrl) and the answer to one scrape of /metrics, which vpnbench reads at the start.")
	p("")
	p("| rocca serve in external mode, %s devices | VmRSS at the end | mean / highest in the 30 s | heap in use | goroutine stacks | goroutines | GCs / CPU / allocated in the 30 s |", n)
	p("|---|---:|---:|---:|---:|---:|---:|")
	row := func(what string, rss int64, f idleFigures) {
		m := f.metrics
		if len(m) == 0 {
			p("| %s | %s | | | | | |", what, mib(rss))
			return
		}
		p("| %s | %s | %s / %s | %s | %s | %.0f | %.0f / %.2f s / %s |", what, mib(rss), mib(f.rssMean), mib(f.rssMax),
			mib(int64(m["go_memstats_heap_inuse_bytes"])), mib(int64(m["go_memstats_stack_inuse_bytes"])), m["go_goroutines"],
			f.gcs, f.cpu, mib(int64(f.alloc)))
	}
	row(fmt.Sprintf("right after its start applied the %s devices (%s)", n, e.apply.Round(time.Millisecond)), e.rssApplied, idleFigures{})
	row("after 30 s idle, no memory limit", e.rssIdle, e.idle)
	row("then one sign-in and 30 s idle", e.rssLogin, e.loginIdle)
	row("peak of that process (VmHWM)", e.hwm, idleFigures{})
	if o.extMemLimit > 0 {
		row(fmt.Sprintf("restarted with `memory_limit_mb = %d`, after 30 s idle", o.extMemLimit), e.rssLimit, e.limitIdle)
		row("then one sign-in and 30 s idle", e.rssLimitIn, e.limitLogin)
		row("peak of that process (VmHWM)", e.hwmLimit, idleFigures{})
	}
	p("")
	const goal = 100 * 1000 * 1000
	mb := func(b int64) string { return fmt.Sprintf("%s = %.1f MB", mib(b), float64(b)/1e6) }
	p("- goal ≤ 100 MB with %s devices, Rocca's own memory measured directly (idle, no memory limit, mean VmRSS over", n)
	p("  the 30 s): %s (%s; highest reading %s).", verdict(e.idle.rssMean <= goal), mb(e.idle.rssMean), mb(e.idle.rssMax))
	p("  After one sign-in: mean %s, highest %s: %s.", mb(e.loginIdle.rssMean), mb(e.loginIdle.rssMax),
		verdict(e.loginIdle.rssMean <= goal))
	p("- the sign-in: argon2id works through 64 MiB for each password it checks (package auth), and package auth")
	p("  gives that memory back to the system as soon as the last check in progress ends. The peak of the process")
	p("  (VmHWM, %s) is that moment: Rocca's own memory plus the 64 MiB of one hash, for a fraction of a second.", mb(e.hwm))
	if o.extMemLimit > 0 {
		p("- with `memory_limit_mb = %d`: idle mean %s, after a sign-in mean %s, peak %s.", o.extMemLimit,
			mb(e.limitIdle.rssMean), mb(e.limitLogin.rssMean), mb(e.hwmLimit))
		p("- while rocca serve was stopped the interface kept %s of the %s peers; the restarted process found them all in", thousands(e.kept), n)
		p("  place (%s from its start to the check) and changed nothing on the interface.", e.restart.Round(time.Millisecond))
	}
	p("- of the idle VmRSS without a limit, %s are pages of the rocca binary (RssFile) and %s anonymous memory (RssAnon):",
		mib(e.idle.rssFile), mib(e.idle.rssAnon))
	p("  the Go heap (%s in use, %s obtained from the OS), the runtime, and SQLite's own page cache outside the Go heap.",
		mib(int64(e.idle.metrics["go_memstats_heap_inuse_bytes"])), mib(int64(e.idle.metrics["go_memstats_sys_bytes"])))
	p("- Debian's wireguard-go (%s) holding the %s peers: VmRSS %s, in its own process.", engineVersion(), n, mib(e.engineRSS))
	p("- compared with the estimate above (userspace VmRSS minus wireguard-go alone): %s estimated, %s measured",
		mib(estimate), mib(e.idle.rssMean))
	p("  (mean idle, no memory limit).")
}

// engineVersion is the Debian package version of wireguard-go, or "version unknown".
func engineVersion() string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "wireguard-go").Output()
	if err != nil || len(out) == 0 {
		return "version unknown"
	}
	return "Debian package " + string(out)
}
