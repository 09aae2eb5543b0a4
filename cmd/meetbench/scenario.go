package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// scenario is one room: publishers send audio and video and receive each other; subscribers only
// receive everybody.
type scenario struct {
	council                 bool
	publishers, subscribers int
}

func (s scenario) String() string {
	if s.council {
		return fmt.Sprintf("council room, %d publishers", s.publishers)
	}
	return fmt.Sprintf("%d publishers + %d subscribers", s.publishers, s.subscribers)
}

// result holds the figures of one scenario.
type result struct {
	sc           scenario
	err          error // the scenario could not be measured
	problems     []error
	participants int           // in the room
	refused      int           // subscribers the server refused: the meeting was full
	connect      time.Duration // from the first join to every flow established

	window         time.Duration
	expected       int64 // packets published in the window times their receivers
	received       int64
	recvBytes      int64
	server, tool   procStat // CPU over the window; the server's memory at its end
	serverIdle     procStat // right after start, before anybody joined
	machineBusy    float64  // share of all cores busy during the window
	p50, p99, pmax time.Duration
	d50, d99, dmax time.Duration // latency of the baseline pair
	late, dlate    float64       // share of packets slower than 5 ms, through the server / baseline
	// Up to the receiving socket: through the server, and on the baseline pair; packets whose
	// arrival time was not found.
	s50, s99, smax time.Duration
	b50, b99, bmax time.Duration
	slate          float64
	unstamped      int64
	e50, e99, emax time.Duration // the canary's echo through another process (canary.go)
	stalls         []stall
	serverDrops    int64 // kernel drops on the SFU's media port during the window
	clientDrops    int64 // kernel drops on the clients' media sockets
	streams        int   // (receiver, publisher, kind) streams forwarded
	// Mean latency of the receivers that joined first and last (a tenth of them each): the SFU
	// forwards each packet to its subscribers in the order they subscribed.
	firstMean, lastMean time.Duration
	tenth               int
}

// stall is a slot of send time in which some packet took longer than stallOver.
type stall struct {
	at            time.Duration // since the window started
	worst, direct time.Duration // through the server, and on the baseline pair
	load          load          // of the machine in that slot
}

const stallOver = 50 * time.Millisecond

// load is what the machine and the server did during one slot.
type load struct {
	known  bool    // the slot was sampled over its whole length
	busy   float64 // share of all cores busy
	server float64 // cores the server used
}

// run is the state of one scenario shared by its clients.
type run struct {
	b       *bench
	sc      scenario
	meeting string
	clients []*client
	win     *window
	hist    histogram
	direct  histogram // the baseline pair, without the server
	// The same latencies up to the receiving socket (stampConn), and the packets whose arrival
	// was not found there.
	sock, directSock histogram
	unstamped        atomic.Int64
	canary           *canary

	recvPackets atomic.Int64
	recvBytes   atomic.Int64
}

// atSocket adds the latency of a received packet (raw RTP, sent at sent) up to its arrival in
// the receiver's socket.
func (r *run) atSocket(h *histogram, sock *stampConn, pkt []byte, sent int64) {
	if sock == nil || len(pkt) < 12 {
		r.unstamped.Add(1)
		return
	}
	at, ok := sock.arrived(binary.BigEndian.Uint32(pkt[8:12]), binary.BigEndian.Uint16(pkt[2:4]))
	if !ok {
		r.unstamped.Add(1)
		return
	}
	h.add(sent, at-sent, r.win)
}

// participants is how many are in the room: all asked for, or fewer if the server's cap refused
// some subscribers.
func (r *run) participants() int { return len(r.clients) }

// runScenario starts a fresh server, fills the room, waits until every receiver gets audio and
// video from every publisher, measures one window and tears everything down.
func (b *bench) runScenario(ctx context.Context, sc scenario) *result {
	res := &result{sc: sc}
	b.logf("%s: starting", sc)
	if err := b.startServer(ctx); err != nil {
		res.err = err
		return res
	}
	defer func() {
		if err := b.stopServer(); err != nil && res.err == nil {
			res.err = err
		}
	}()
	res.err = b.runRoom(ctx, res)
	if res.err != nil {
		b.logf("server log tail:\n%s", b.logTail(20))
	}
	return res
}

func (b *bench) runRoom(ctx context.Context, res *result) error {
	sc := res.sc
	idle, err := readProc(b.cmd.Process.Pid)
	if err != nil {
		return err
	}
	res.serverIdle = idle
	title := "Consiglio comunale (meetbench)"
	if !sc.council {
		title = "Assemblea pubblica (meetbench)"
	}
	id, err := b.createMeeting(ctx, title)
	if err != nil {
		return err
	}
	r := &run{b: b, sc: sc, meeting: id, win: newWindow()}
	for i := range sc.publishers + sc.subscribers {
		r.clients = append(r.clients, newClient(r, i, i < sc.publishers))
	}
	defer r.closeAll()
	began := time.Now()
	if err := r.fill(ctx, res); err != nil {
		return err
	}
	if err := r.waitFlows(ctx, 60*time.Second+time.Duration(r.participants())*300*time.Millisecond); err != nil {
		return err
	}
	res.connect = time.Since(began)
	send, recv, err := directPair(r)
	defer send.close()
	defer recv.close()
	if err != nil {
		return fmt.Errorf("baseline pair: %w", err)
	}
	if err := waitUntil(ctx, 10*time.Second, func() bool { return recv.seen[0].Load() }); err != nil {
		return errors.New("baseline pair: no media within 10 s")
	}
	cn, err := b.startCanary(r.win)
	if err != nil {
		return err
	}
	defer cn.close()
	r.canary = cn
	b.logf("%s: %d participants connected in %s; measuring %s", sc, r.participants(),
		res.connect.Round(100*time.Millisecond), b.o.duration)
	if err := sleep(ctx, b.o.warmup); err != nil {
		return err
	}
	if err := r.measure(ctx, res); err != nil {
		return err
	}
	r.report(res)
	return nil
}

// fill lets the publishers in, then the audience, a few at a time as people arrive. A full
// meeting is a finding, not a failure: the subscribers refused are left out and counted.
func (r *run) fill(ctx context.Context, res *result) error {
	sc := r.sc
	full := make([]atomic.Bool, len(r.clients))
	join := func(from, n, width int) error {
		return parallel(ctx, n, width, func(ctx context.Context, i int) error {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			err := r.clients[from+i].join(ctx)
			if errors.Is(err, errFull) {
				full[from+i].Store(true)
				return nil
			}
			return err
		})
	}
	if err := join(0, sc.publishers, 4); err != nil {
		return fmt.Errorf("publishers joining: %w", err)
	}
	for i := range sc.publishers {
		if full[i].Load() {
			return fmt.Errorf("the meeting was full before publisher %d joined", i)
		}
	}
	if err := join(sc.publishers, sc.subscribers, 8); err != nil {
		return fmt.Errorf("subscribers joining: %w", err)
	}
	admitted := make([]*client, 0, len(r.clients))
	for i, c := range r.clients {
		if full[i].Load() {
			c.close()
			continue
		}
		admitted = append(admitted, c)
	}
	res.refused = len(r.clients) - len(admitted)
	r.clients = admitted
	res.participants = r.participants()
	if res.refused > 0 {
		r.b.logf("%s: the server refused %d subscribers (meeting full at %d people)", sc, res.refused, res.participants)
	}
	return nil
}

// measure runs the window: it reads the server's and the machine's CPU at both ends and in
// between, then collects what the clients counted.
func (r *run) measure(ctx context.Context, res *result) error {
	b := r.b
	// The window starts a little ahead so that every sender sees it set before it begins.
	start := b.now() + int64(200*time.Millisecond)
	end := start + int64(b.o.duration)
	r.win.end.Store(end)
	r.win.start.Store(start)
	pid := b.cmd.Process.Pid
	if err := sleep(ctx, time.Duration(start-b.now())); err != nil {
		return err
	}
	s0, err := readProc(pid)
	if err != nil {
		return err
	}
	t0, _ := readProc(os.Getpid())
	busy0, total0 := machineCPU()
	drops0 := udpDrops()
	load, err := sampleLoad(ctx, pid, end, b.now)
	if err != nil {
		return err
	}
	s1, err := readProc(pid)
	if err != nil {
		return err
	}
	t1, _ := readProc(os.Getpid())
	busy1, total1 := machineCPU()
	drops1 := udpDrops()
	// Packets sent just before the end are still on their way.
	if err := sleep(ctx, time.Second); err != nil {
		return err
	}

	res.window = time.Duration(end - start)
	res.server = procStat{cpu: s1.cpu - s0.cpu, rss: s1.rss, hwm: s1.hwm}
	res.tool = procStat{cpu: t1.cpu - t0.cpu}
	if total1 > total0 {
		res.machineBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	res.serverDrops = drops1[b.udpPort] - drops0[b.udpPort]
	for _, c := range r.clients {
		if p := c.port(); p != 0 {
			res.clientDrops += drops1[p] - drops0[p]
		}
	}
	r.collect(res, load)
	return nil
}

// collect fills res from the clients' counters and histograms.
func (r *run) collect(res *result, load []load) {
	sc := r.sc
	for _, c := range r.clients[:sc.publishers] {
		for k := range c.sentWin {
			res.expected += c.sentWin[k].Load() * int64(r.participants()-1)
		}
	}
	res.streams = 2 * sc.publishers * (r.participants() - 1)
	res.received = r.recvPackets.Load()
	res.recvBytes = r.recvBytes.Load()
	res.p50, res.p99 = r.hist.quantile(0.50), r.hist.quantile(0.99)
	res.pmax = time.Duration(r.hist.max.Load())
	res.d50, res.d99 = r.direct.quantile(0.50), r.direct.quantile(0.99)
	res.dmax = time.Duration(r.direct.max.Load())
	res.late, res.dlate = r.hist.over(5*time.Millisecond), r.direct.over(5*time.Millisecond)
	res.s50, res.s99 = r.sock.quantile(0.50), r.sock.quantile(0.99)
	res.smax = time.Duration(r.sock.max.Load())
	res.b50, res.b99 = r.directSock.quantile(0.50), r.directSock.quantile(0.99)
	res.bmax = time.Duration(r.directSock.max.Load())
	res.slate = r.sock.over(5 * time.Millisecond)
	res.unstamped = r.unstamped.Load()
	if r.canary != nil {
		h := &r.canary.hist
		res.e50, res.e99, res.emax = h.quantile(0.50), h.quantile(0.99), time.Duration(h.max.Load())
	}
	res.firstMean, res.lastMean, res.tenth = r.endsOfFanOut()
	for i := range int(res.window / slotLen) {
		if d := time.Duration(r.hist.slots[i].Load()); d > stallOver {
			st := stall{at: time.Duration(i) * slotLen, worst: d, direct: time.Duration(r.direct.slots[i].Load())}
			if i < len(load) {
				st.load = load[i]
			}
			res.stalls = append(res.stalls, st)
		}
	}
	for _, c := range r.clients {
		if err := c.failure(); err != nil {
			res.problems = append(res.problems, err)
		}
	}
}

// report logs the main figures and the slowest moments of the window.
func (r *run) report(res *result) {
	b, sc := r.b, r.sc
	b.logf("%s: %.1f Mbit/s forwarded, server CPU %.2f s, lost %d of %d, p50 %s p99 %s",
		sc, res.mbps(), res.server.cpu.Seconds(), res.lost(), res.expected, res.p50, res.p99)
	for i, st := range res.stalls {
		if i == 10 {
			b.logf("%s: … %d more slots over %s", sc, len(res.stalls)-i, stallOver)
			break
		}
		busy := "not sampled"
		if st.load.known {
			busy = fmt.Sprintf("machine %.0f%% busy, server %.2f cores", 100*st.load.busy, st.load.server)
		}
		b.logf("%s: packets sent %s into the window took up to %s (baseline pair: %s); %s",
			sc, st.at, st.worst.Round(time.Millisecond), st.direct.Round(time.Millisecond), busy)
	}
	for _, err := range res.problems {
		b.logf("%s: %v", sc, err)
	}
}

// sampleLoad records the load of each slotLen until end (on the tool's clock).
func sampleLoad(ctx context.Context, pid int, end int64, now func() int64) ([]load, error) {
	var out []load
	busy0, total0 := machineCPU()
	s0, err := readProc(pid)
	if err != nil {
		return nil, err
	}
	for {
		left := time.Duration(end - now())
		if left <= 0 {
			return out, nil
		}
		if err := sleep(ctx, min(slotLen, left)); err != nil {
			return nil, err
		}
		busy1, total1 := machineCPU()
		s1, err := readProc(pid)
		if err != nil {
			return nil, err
		}
		l := load{known: left >= slotLen && total1 > total0, server: (s1.cpu - s0.cpu).Seconds() / slotLen.Seconds()}
		if l.known {
			l.busy = float64(busy1-busy0) / float64(total1-total0)
		}
		out = append(out, l)
		busy0, total0, s0 = busy1, total1, s1
	}
}

// endsOfFanOut returns the mean latency of the first and the last tenth of the receivers, in
// the order they joined (receive-only subscribers if any, else everybody), and the size of a
// tenth.
func (r *run) endsOfFanOut() (first, last time.Duration, k int) {
	recv := r.clients
	if r.sc.subscribers > 0 {
		recv = recv[r.sc.publishers:]
	}
	k = max(1, len(recv)/10)
	mean := func(cs []*client) time.Duration {
		var sum, n int64
		for _, c := range cs {
			sum, n = sum+c.latSum.Load(), n+c.latN.Load()
		}
		if n == 0 {
			return 0
		}
		return time.Duration(sum / n)
	}
	return mean(recv[:k]), mean(recv[len(recv)-k:]), k
}

// waitFlows waits until every participant receives audio and video from every publisher but
// itself.
func (r *run) waitFlows(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		missing, first := 0, ""
		for _, c := range r.clients {
			if err := c.failure(); err != nil {
				return err
			}
			for p := range r.sc.publishers {
				if p != c.idx && !c.receives(p) {
					if missing == 0 {
						first = fmt.Sprintf("participant %d gets nothing (or no video) from publisher %d", c.idx, p)
					}
					missing++
				}
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s, %d flows still missing; e.g. %s", limit, missing, first)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// closeAll closes the clients, several at a time.
func (r *run) closeAll() {
	_ = parallel(context.Background(), len(r.clients), 16, func(_ context.Context, i int) error {
		r.clients[i].close()
		return nil
	})
}

// waitUntil polls cond every 50 ms for at most limit.
func waitUntil(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
