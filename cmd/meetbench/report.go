package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/rocca-pa/rocca/internal/benchenv"
)

// Derived figures of a result.
func (r *result) mbps() float64 { return float64(r.recvBytes) * 8 / r.window.Seconds() / 1e6 }
func (r *result) pps() float64  { return float64(r.received) / r.window.Seconds() }

// cores is the server's CPU time per second of wall clock.
func (r *result) cores() float64 { return r.server.cpu.Seconds() / r.window.Seconds() }

// cpuPerMbps is the server's CPU seconds per second for each forwarded Mbit/s, in milliseconds:
// the same number as CPU milliseconds per forwarded megabit.
func (r *result) cpuPerMbps() float64 { return r.cores() * 1000 / r.mbps() }

// usPerPacket is the server's CPU time per forwarded (received) packet.
func (r *result) usPerPacket() float64 { return r.server.cpu.Seconds() * 1e6 / float64(r.received) }

func (r *result) lost() int64 { return r.expected - r.received }

func (r *result) ok() bool { return r.err == nil && r.received > 0 }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

// write renders the fragment to -out (and stdout).
func (b *bench) write() error {
	o := b.o
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	p("## Meetings: SFU forwarding under load (cmd/meetbench)")
	p("")
	p("Written by `make bench` through `cmd/meetbench`; reproduce this part alone with")
	p("`make build && go run -tags sqlite_fts5 ./cmd/meetbench -bin bin/rocca -out docs/bench/meetings.md`")
	p("(flags: `-duration`, `-council`, `-publishers`, `-subscribers`, `-video-kbps`, `-fps`, `-audio-bytes`).")
	p("")
	p("- date: %s, run took %s", b.started.UTC().Format("2006-01-02 15:04 UTC"), time.Since(b.started).Round(time.Second))
	p("- machine: %s", machine())
	p("- server: %s", software(b.o.bin))
	p("- **the load generator runs on the same machine** as the server and competes with it for the %d cores,", runtime.NumCPU())
	p("  and the machine is shared with other work: the last columns show how busy it was during each run.")
	p("")
	p("How it runs: the built `rocca serve` on 127.0.0.1 (meetings on, VPN and helpdesk off), restarted for")
	p("each room. Users are added with `rocca user add --password-stdin` (one staff member, who hosts, and")
	p("councillors) and signed in through `POST /login`; each room is created with `rocca meeting create`.")
	p("Every participant is a Pion WebRTC client in this tool that joins through `POST /meetings/{id}/join`")
	p("and the signalling WebSocket (docs/signalling.md), with its own UDP socket on 127.0.0.1. A publisher")
	p("sends Opus-sized audio (%d-byte payloads, 50 packets/s, RFC 6464 audio level) and synthetic VP8 at", o.audioBytes)
	p("%d kbit/s of payload, %d frames/s, packets of at most %d bytes with valid payload descriptors", o.videoKbps, o.fps, maxPayload)
	p("(15-bit PictureID; a key frame every 5 s and after each PLI), no simulcast. Clients negotiate RTCP")
	p("reports and transport-wide congestion control feedback, but no NACK/RTX, so a lost packet stays lost")
	p("and is counted. Each payload ends with the time it was handed to the publisher's PeerConnection; the")
	p("receiver subtracts it from the time its track read returns, on the same clock. Figures cover a %s", o.duration)
	p("window that starts %s after every flow is up.", o.warmup)
	p("")
	p("Columns:")
	p("")
	p("- *streams*: audio and video streams forwarded (receivers × their publishers × 2);")
	p("- *forwarded*: RTP packets (header and payload, after SRTP) that reached the receivers, per second;")
	p("- *server CPU*: utime+stime of the rocca process over the window (`/proc/PID/stat`), per second;")
	p("- *CPU per Mbit/s*: server CPU seconds per second for each forwarded Mbit/s, in ms (the same number")
	p("  as CPU milliseconds per forwarded megabit); *µs/packet*: server CPU per forwarded packet;")
	p("- *latency*: publisher write to subscriber read, which includes both clients' SRTP and scheduling on")
	p("  the shared cores, so it is an upper bound of what the server adds; *over 5 ms*: share of packets")
	p("  slower than that;")
	p("- *baseline*: the same latency, in the same window, of one more publisher connected straight to one")
	p("  more receiver inside the tool, without the server: what the clients and the busy machine add alone;")
	p("- *at the socket*: publisher write to the kernel's receive time of the forwarded packet at the")
	p("  receiver's socket (SO_TIMESTAMPNS, looked up by SSRC and sequence number once the receiver has")
	p("  decrypted the packet; on loopback the kernel takes it inside the server's sendto, so it is when the")
	p("  server let the packet go): the sending client's write, the server and loopback, without the")
	p("  receiving client's own reading, decryption and scheduling, which a real participant does on its own")
	p("  device but which here shares the cores with the server (and *socket baseline*: the same for the")
	p("  baseline pair). Wall-clock receive times are put on the tool's clock once, at start;")
	p("- *echo floor*: every 2 ms the tool sends a datagram to a small process of its own (meetbench -echo)")
	p("  that reads it and sends it back; the figure is the tool's write to the kernel's receive time of the")
	p("  echo. It is what this machine, busy with the room, costs one process that must wake up, read and")
	p("  send, which the server does at least once (in Pion, several times) for every forwarded packet;")
	p("- *lost*: packets published in the window times their receivers, minus those received; *drops*: the")
	p("  kernel's receive-buffer drops on the server's media socket / on the clients' sockets;")
	p("- *RSS*: VmRSS of rocca serve at the end of the window (in brackets: right after start, idle);")
	p("- *machine busy*: all cores; *load tool / other*: cores used by this tool and by everything else.")
	p("")
	var council []*result
	var fan []*result
	for _, r := range b.results {
		if r.sc.council {
			council = append(council, r)
		} else {
			fan = append(fan, r)
		}
	}
	if len(council) > 0 {
		p("### Council room: every participant publishes audio and video and receives everybody")
		p("")
		b.table(&w, council)
	}
	if len(fan) > 0 {
		p("### Fan-out: %d publishers, receive-only subscribers", o.publishers)
		p("")
		b.table(&w, fan)
	}
	b.goals(&w)
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

func (b *bench) table(w *strings.Builder, rs []*result) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("| participants | streams | forwarded | server CPU | CPU per Mbit/s | µs/packet | latency p50 / p99 / max | over 5 ms | baseline p50 / p99 / max | at the socket p50 / p99 / max (over 5 ms) | socket baseline p50 / p99 | echo floor p50 / p99 / max | lost | drops server / clients | RSS (idle) | machine busy | load tool / other CPU |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		who := fmt.Sprintf("%d publishing", r.sc.publishers)
		if !r.sc.council {
			who = fmt.Sprintf("%d + %d receive-only", r.sc.publishers, r.sc.subscribers-r.refused)
			if r.refused > 0 {
				who += fmt.Sprintf(" (%d asked: meeting full at %d people)", r.sc.subscribers, r.participants)
			}
		}
		if !r.ok() {
			p("| %s | failed: %s ||||||||||||||||", who, strings.ReplaceAll(firstLine(r.err), "|", "/"))
			continue
		}
		p("| %s | %d | %.1f Mbit/s, %.0f packets/s | %.2f cores | %.2f ms | %.1f µs | %s / %s / %s | %.2f%% (baseline %.2f%%) | %s / %s / %s | %s / %s / %s (%.2f%%) | %s / %s | %s / %s / %s | %d of %d (%.3f%%) | %d / %d | %s (%s) | %.0f%% | %.2f / %.2f cores |",
			who, r.streams, r.mbps(), r.pps(), r.cores(), r.cpuPerMbps(), r.usPerPacket(),
			ms(r.p50), ms(r.p99), ms(r.pmax), 100*r.late, 100*r.dlate, ms(r.d50), ms(r.d99), ms(r.dmax),
			ms(r.s50), ms(r.s99), ms(r.smax), 100*r.slate, ms(r.b50), ms(r.b99), ms(r.e50), ms(r.e99), ms(r.emax),
			r.lost(), r.expected, 100*float64(r.lost())/float64(max(1, r.expected)),
			r.serverDrops, r.clientDrops, mib(r.server.rss), mib(r.serverIdle.rss), 100*r.machineBusy, r.toolCores(), r.otherCores())
	}
	p("")
}

func firstLine(err error) string {
	if err == nil {
		return "no packets received"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// goals states each goal of the issue against the figures, then what limits their reading.
func (b *bench) goals(w *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	var ok, fan []*result
	for _, r := range b.results {
		if r.ok() {
			ok = append(ok, r)
			if !r.sc.council {
				fan = append(fan, r)
			}
		}
	}
	if len(ok) == 0 {
		return
	}
	p("### Goals (issue 4, acceptance 6)")
	p("")
	p("- **Added forwarding latency p99 ≤ 5 ms**, measured two ways: end to end (publisher write to")
	p("  subscriber read, the upper bound, which also holds the receiving client's own work on these cores)")
	p("  and up to the receiving socket (publisher write to the kernel queuing the forwarded packet: what")
	p("  the server adds, with the sending client's write, loopback and the competition for the cores):")
	for _, r := range ok {
		p("  - %s: end to end p99 %s, p50 %s (baseline without the server: p99 %s, p50 %s): %s;",
			r.label(), ms(r.p99), ms(r.p50), ms(r.d99), ms(r.d50), verdict(r.p99 <= 5*time.Millisecond))
		p("    at the socket p99 %s, p50 %s (baseline p99 %s): %s; echo floor of this machine in the same window:",
			ms(r.s99), ms(r.s50), ms(r.b99), verdict(r.s99 <= 5*time.Millisecond && r.s99 > 0))
		p("    p99 %s, p50 %s, max %s.", ms(r.e99), ms(r.e50), ms(r.emax))
	}
	p("- **Zero loss on loopback**:")
	for _, r := range ok {
		p("  - %s: %d lost of %d expected, kernel drops %d (server) / %d (clients): %s.",
			r.label(), r.lost(), r.expected, r.serverDrops, r.clientDrops, verdict(r.lost() == 0))
	}
	if len(fan) >= 2 {
		first, last := fan[0], fan[len(fan)-1]
		a, slope, r2 := fit(fan)
		growth := last.cpuPerMbps()/first.cpuPerMbps() - 1
		p("- **CPU per forwarded Mbit/s scales linearly with subscribers**: with %d publishers, server CPU ≈ %.3f + %.4f ×",
			b.o.publishers, a, slope)
		p("  subscribers cores (least squares over %d runs, R² = %.3f); CPU per Mbit/s goes from %.2f ms (%d subscribers)",
			len(fan), r2, first.cpuPerMbps(), first.subs())
		p("  to %.2f ms (%d), %+.0f%%: a fixed cost (the publishers, RTCP, signalling, the runtime) spread over more traffic",
			last.cpuPerMbps(), last.subs(), 100*growth)
		p("  plus a cost per subscriber. Taken as met when the cost per Mbit/s of the largest room is at most 20%% above")
		p("  the smallest's (no worse than linear): %s.", verdict(growth <= 0.20))
	}
	for _, r := range ok {
		if len(r.problems) > 0 {
			p("- %s: **%d participants reported problems** (the figures may be off), first: %s", r.label(),
				len(r.problems), strings.ReplaceAll(firstLine(r.problems[0]), "|", "/"))
		}
		if r.unstamped > 0 {
			p("- %s: %d received packets had no socket arrival time (not counted at the socket).", r.label(), r.unstamped)
		}
		if r.refused > 0 {
			p("- %s: **not measured as asked**: the server admits at most %d people to one meeting (the", r.sc, r.participants)
			p("  meetings part's participant cap), so it refused %d subscribers and the row shows %d + %d.",
				r.refused, r.sc.publishers, r.participants-r.sc.publishers)
		}
	}
	big := ok[0]
	for _, r := range ok {
		if r.received > big.received {
			big = r
		}
	}
	p("")
	p("Reading these figures:")
	p("")
	p("- This machine has %d cores, and the load generator runs on it next to the server: in the busiest room", runtime.NumCPU())
	p("  (%s) the server used %.2f cores, the tool %.2f and other processes %.2f, the machine being %.0f%% busy.",
		big.label(), big.cores(), big.toolCores(), big.otherCores(), 100*big.machineBusy)
	p("  The latency tail measures contention for these cores as much as the server: the baseline pair, which")
	p("  skips the server, shows what the clients and the machine add by themselves in the same window.")
	for _, r := range ok {
		if len(r.stalls) == 0 {
			continue
		}
		var busy float64
		var known int
		var direct time.Duration
		for _, st := range r.stalls {
			if st.load.known {
				busy, known = busy+st.load.busy, known+1
			}
			direct = max(direct, st.direct)
		}
		p("- %s: in %d of the %d slots of %s (by send time) some packet took over %s; the machine was %.0f%% busy",
			r.label(), len(r.stalls), int(r.window/slotLen), slotLen, stallOver, 100*busy/float64(max(1, known)))
		p("  in those slots on average (%.0f%% over the window), and the baseline pair's worst there was %s.",
			100*r.machineBusy, ms(direct))
	}
	var order []string
	for _, r := range ok {
		if r.sc.council || r.tenth < 2 {
			continue
		}
		order = append(order, fmt.Sprintf("  - %s: first tenth %s, last tenth %s (%.0f µs per subscriber ahead); one packet's fan-out ≈ %s of CPU",
			r.label(), ms(r.firstMean), ms(r.lastMean), float64(r.lastMean-r.firstMean)/1e3/float64(max(1, r.subs()-r.tenth)),
			ms(time.Duration(r.usPerPacket()*float64(r.participants-1)*1e3))))
	}
	if len(order) > 0 {
		p("- The SFU forwards each packet to its subscribers one after another, in the order they subscribed, in")
		p("  one loop on the publisher's reader goroutine. Mean latency (end to end) of the first and the last")
		p("  tenth of the subscribers to join, and the CPU one packet's fan-out takes (µs/packet × receivers):")
		for _, l := range order {
			p("%s", l)
		}
		p("  The position in the list explains little of the median: while one packet's loop runs, the next packet")
		p("  of the same track waits, and the loops of the other tracks compete for the cores with the tool.")
	}
	p("- Where the server's share of the latency goes (from CPU profiles and runtime traces of the server in")
	p("  these rooms, taken while tuning it; this tool does not repeat them): each write to a subscriber costs")
	p("  several microseconds of CPU (Pion's interceptors, the congestion controller's record of the packet,")
	p("  SRTP, and a sendto that on loopback also delivers into the receiver's socket), so one packet's loop")
	p("  over a hundred subscribers takes about a millisecond; before the loop, a packet passes through")
	p("  several of Pion's goroutines (UDP mux, ICE, SRTP), and each of them waits for a free core behind")
	p("  the RTCP work of every connection and behind the tool. The *at the socket* tail therefore follows")
	p("  how busy the cores are more than the number of subscribers.")
	p("- Memory: the idle figure already holds what the server touches at start (package auth hashes a dummy")
	p("  password with argon2id, 64 MiB); from idle to the busiest room VmRSS grew by about %.1f MiB per participant.",
		float64(big.server.rss-big.serverIdle.rss)/(1<<20)/float64(big.participants))
	p("- Video is one VP8 layer per publisher (no simulcast), so every subscriber gets the same %d kbit/s; RTCP", b.o.videoKbps)
	p("  (reports, transport-cc feedback, keyframe requests) flows both ways and its server CPU is included, but")
	p("  not in the forwarded bitrate. One run each: expect some spread between runs on a shared machine.")
	p("")
}

// label names the room as it was measured.
func (r *result) label() string {
	if r.sc.council {
		return fmt.Sprintf("council room, %d publishers", r.sc.publishers)
	}
	return fmt.Sprintf("%d publishers + %d subscribers", r.sc.publishers, r.subs())
}

// subs is the number of receive-only participants admitted.
func (r *result) subs() int { return r.sc.subscribers - r.refused }

func (r *result) toolCores() float64 { return r.tool.cpu.Seconds() / r.window.Seconds() }

// otherCores is the CPU that other processes of the machine took during the window.
func (r *result) otherCores() float64 {
	return max(0, r.machineBusy*float64(runtime.NumCPU())-r.cores()-r.toolCores())
}

// fit is the least-squares line of server cores over subscribers, and its R².
func fit(rs []*result) (a, b, r2 float64) {
	n := float64(len(rs))
	var sx, sy, sxx, sxy float64
	for _, r := range rs {
		x, y := float64(r.subs()), r.cores()
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return sy / n, 0, 0
	}
	b = (n*sxy - sx*sy) / den
	a = (sy - b*sx) / n
	mean := sy / n
	var ssRes, ssTot float64
	for _, r := range rs {
		x, y := float64(r.subs()), r.cores()
		ssRes += (y - a - b*x) * (y - a - b*x)
		ssTot += (y - mean) * (y - mean)
	}
	if ssTot == 0 {
		return a, b, 1
	}
	return a, b, 1 - ssRes/ssTot
}

// machine describes the host: cores, memory, CPU model, kernel.
func machine() string {
	return benchenv.Machine() + "; load tool built with " + runtime.Version()
}

// software is what `rocca version` prints.
func software(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return bin
	}
	return "`" + strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", "; ") + "`"
}
