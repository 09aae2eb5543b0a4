// Command meetbench measures the meetings SFU of the built binary for docs/benchmarks.md (`make
// bench` runs it; it writes the fragment docs/bench/meetings.md). It starts `rocca serve` on
// loopback with meetings on and the VPN and helpdesk off, adds users with `rocca user add`, signs
// them in through POST /login like a browser, creates each meeting with `rocca meeting create`,
// and connects Pion clients through the real join endpoint and signalling WebSocket. Then it
// measures, for each scenario:
//
//   - a council room: -council participants, each publishing Opus-sized audio (50 packets/s) and
//     synthetic VP8 (a fixed bitrate, valid payload descriptors) and receiving everybody else;
//   - a fan-out room: -publishers participants publishing the same media, plus each count of
//     -subscribers receive-only participants.
//
// Every media packet carries, at the end of its payload, the time it was handed to the
// publisher's PeerConnection (this process's monotonic clock), the publisher and a counter; the
// receivers read them back, so the latency figures are "now - sent" on one clock. Over a window of
// -duration it reports the server's CPU time (utime+stime of the rocca process, /proc/PID/stat)
// per forwarded Mbit/s and per forwarded packet, forwarding latency p50/p99/max, packets lost
// (packets sent in the window times their receivers, minus those received), kernel socket drops,
// and the server's VmRSS/VmHWM. The server is restarted for each scenario.
//
// Traffic stays on loopback: the clients' media sockets are bound to 127.0.0.1 and the server
// listens on 127.0.0.1. Everything is bounded (participants, time) and the server process and the
// temporary directory are removed at the end, also on failure or Ctrl-C. The tool imports no
// Rocca package: it is a client of the documented protocol (docs/signalling.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var o options
	var subs string
	flag.StringVar(&o.bin, "bin", envOr("ROCCA_BIN", "bin/rocca"), "the rocca binary to run (make build)")
	flag.StringVar(&o.out, "out", "docs/bench/meetings.md", "the markdown fragment to write")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measurement window of each scenario")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "wait after every flow is established, before measuring")
	flag.IntVar(&o.council, "council", 17, "participants of the council room, each publishing and receiving everybody (0: skip)")
	flag.IntVar(&o.publishers, "publishers", 5, "publishers of the fan-out room")
	flag.StringVar(&subs, "subscribers", "25,50,100", "receive-only participants of the fan-out room, one run per count (empty: skip)")
	flag.IntVar(&o.videoKbps, "video-kbps", 500, "bitrate of each synthetic VP8 video, RTP payload")
	flag.IntVar(&o.fps, "fps", 30, "video frames per second")
	flag.IntVar(&o.audioBytes, "audio-bytes", 80, "payload of each audio packet (50 a second; 80 bytes is Opus voice at 32 kbit/s)")
	flag.BoolVar(&o.verbose, "v", false, "log progress details and the server's warnings")
	echoOnly := flag.Bool("echo", false, "internal: be the canary's echo process (see canary.go)")
	flag.Parse()
	if *echoOnly {
		if err := echo(); err != nil {
			fmt.Fprintln(os.Stderr, "meetbench -echo:", err)
			os.Exit(1)
		}
		return
	}
	for _, f := range strings.Split(subs, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "meetbench: -subscribers: %q is not a positive number\n", f)
			os.Exit(2)
		}
		o.subscribers = append(o.subscribers, n)
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "meetbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	b := newBench(o)
	err := b.run(ctx)
	stop()
	b.cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "meetbench:", err)
		os.Exit(1)
	}
}

type options struct {
	bin, out                   string
	duration, warmup           time.Duration
	council, publishers        int
	subscribers                []int
	videoKbps, fps, audioBytes int
	verbose                    bool
}

// Bounds that keep one run of the tool reasonable on a small machine.
const (
	maxParticipants = 250
	maxDuration     = 5 * time.Minute
)

func (o options) check() error {
	if fi, err := os.Stat(o.bin); err != nil || fi.IsDir() {
		return fmt.Errorf("rocca binary %s not found: run `make build` or pass -bin", o.bin)
	}
	if o.duration < time.Second || o.duration > maxDuration || o.warmup < 0 || o.warmup > time.Minute {
		return errors.New("want 1s <= -duration <= 5m and 0 <= -warmup <= 1m")
	}
	if o.council == 1 || o.council < 0 || o.council > maxParticipants {
		return fmt.Errorf("-council: want 0 (skip) or 2..%d", maxParticipants)
	}
	if len(o.subscribers) > 0 && o.publishers < 1 {
		return errors.New("-publishers: want at least 1")
	}
	for _, n := range o.subscribers {
		if o.publishers+n > maxParticipants {
			return fmt.Errorf("-publishers + -subscribers: at most %d participants", maxParticipants)
		}
	}
	if o.council == 0 && len(o.subscribers) == 0 {
		return errors.New("nothing to run: -council 0 and no -subscribers")
	}
	if o.videoKbps < 50 || o.videoKbps > 10000 || o.fps < 1 || o.fps > 60 || o.audioBytes < trailerLen+1 || o.audioBytes > 1000 {
		return fmt.Errorf("want 50 <= -video-kbps <= 10000, 1 <= -fps <= 60, %d <= -audio-bytes <= 1000", trailerLen+1)
	}
	return nil
}

// users is how many accounts the scenarios need.
func (o options) users() int {
	n := o.council
	for _, s := range o.subscribers {
		n = max(n, o.publishers+s)
	}
	return n
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
