package sfu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

const (
	// recMaxPayload is the largest RTP payload recorded; media packets stay under the path MTU.
	recMaxPayload = 1500
	// Queue between the forwarding path and a track's recorder, in packets: seconds of media,
	// so that a slow disk loses nothing, while a stuck one cannot take unbounded memory.
	recAudioQueue = 256
	recVideoQueue = 1024
	// recMaxHold is how long a packet waits for a missing one before it (the gap) is skipped:
	// long enough for a NACK retransmission to arrive.
	recMaxHold = int64(200 * time.Millisecond)
	recTick    = 250 * time.Millisecond
	// recZeroWindow: the file's start time is estimated from the frames of its first seconds
	// (later ones would add the drift between the sender's clock and ours).
	recZeroWindow = 10_000 // ms of file time
)

// recPacket is a copy of one RTP packet on its way to a recorder. Its buffer comes from the
// recording's pool and goes back once written.
type recPacket struct {
	at     int64 // SFU clock at arrival
	ts     uint32
	seq    uint16
	n      uint16
	layer  int8
	marker bool
	key    bool // first packet of a key frame (always true for audio)
	buf    [recMaxPayload]byte
}

func (p *recPacket) payload() []byte { return p.buf[:p.n] }

// trackRecorder writes one published track to one WebM file. The forwarding path hands it
// packets through push; its own goroutine (run) owns everything else, including the file.
type trackRecorder struct {
	rec   *recording
	up    *upTrack
	video bool
	codec string
	in    chan *recPacket
	quit  chan struct{}
	once  sync.Once
	done  chan struct{}

	cur     atomic.Int32 // simulcast layer being recorded
	want    atomic.Int32 // layer to switch to at its next key frame, -1 for none
	dropped atomic.Int64 // packets dropped because the queue was full

	// Owned by run.
	ro      reorder
	asm     frameAsm
	needKey bool
	tm      tsMap
	out     *webmFile
	err     error
	file    ManifestFile
	path    string
	zero    int64 // estimated SFU clock time of file time 0
	frames  int64
	lastMs  int64
	lastDur int64
}

func newTrackRecorder(rec *recording, u *upTrack, codec string) *trackRecorder {
	size := recAudioQueue
	if u.kind == webrtc.RTPCodecTypeVideo {
		size = recVideoQueue
	}
	t := &trackRecorder{
		rec: rec, up: u, video: u.kind == webrtc.RTPCodecTypeVideo, codec: codec,
		in: make(chan *recPacket, size), quit: make(chan struct{}), done: make(chan struct{}),
		needKey: u.kind == webrtc.RTPCodecTypeVideo,
		tm:      tsMap{clock: int64(max(u.codec.ClockRate, 1))},
	}
	t.cur.Store(int32(u.bestLayer(u.clock())))
	t.want.Store(-1)
	return t
}

// push hands one packet to the recorder. It runs on the forwarding hot path: it never blocks
// and, once the pool is warm, does not allocate; when the queue is full the packet is dropped
// and counted (the recorder then sees a gap and, for video, waits for the next key frame).
func (t *trackRecorder) push(layer int, pkt *rtp.Packet, key bool, now int64) {
	if l := int32(layer); l != t.cur.Load() && l != t.want.Load() {
		return
	}
	if len(pkt.Payload) > recMaxPayload {
		t.dropped.Add(1)
		return
	}
	p := t.rec.pool.Get().(*recPacket)
	p.at, p.ts, p.seq, p.layer, p.marker, p.key = now, pkt.Timestamp, pkt.SequenceNumber, int8(layer), pkt.Marker, key
	p.n = uint16(copy(p.buf[:], pkt.Payload))
	select {
	case t.in <- p:
	default:
		t.rec.pool.Put(p)
		t.dropped.Add(1)
	}
}

// stop ends the recording of this track; run finishes the file.
func (t *trackRecorder) stop() { t.once.Do(func() { close(t.quit) }) }

// stopRecorder detaches the track's recorder, if any.
func (u *upTrack) stopRecorder() {
	if t := u.rec.Swap(nil); t != nil {
		t.stop()
	}
}

// bestLayer is the highest layer that sent recently, else the highest known one.
func (u *upTrack) bestLayer(now int64) int {
	rates := u.layerRates(now)
	for i := maxLayers - 1; i >= 0; i-- {
		if rates[i] >= 0 {
			return i
		}
	}
	for i := maxLayers - 1; i >= 0; i-- {
		if u.layers[i].Load() != nil {
			return i
		}
	}
	return 0
}

func (t *trackRecorder) run() {
	defer close(t.done)
	tick := time.NewTicker(recTick)
	defer tick.Stop()
	if t.video {
		t.up.requestKeyframe(int(t.cur.Load())) // so that the file starts soon, with a key frame
	}
	for {
		select {
		case p := <-t.in:
			t.receive(p)
		case <-tick.C:
			t.tick(t.up.clock())
		case <-t.quit:
			for len(t.in) > 0 { // only this goroutine receives
				t.receive(<-t.in)
			}
			t.finish()
			return
		}
	}
}

func (t *trackRecorder) free(p *recPacket) { t.rec.pool.Put(p) }

// receive puts a packet of the recorded layer in order and writes what is complete.
func (t *trackRecorder) receive(p *recPacket) {
	if w := t.want.Load(); w >= 0 && int32(p.layer) == w && p.key {
		t.switchLayer(w)
	}
	if int32(p.layer) != t.cur.Load() {
		t.free(p)
		return
	}
	if t.ro.farAhead(p.seq) {
		// A long gap (a moderator's mute, a lost burst): write what is held and start over.
		t.drain(p.at, true)
		t.ro.lost += int64(p.seq - t.ro.next)
		t.ro.restart()
	}
	if !t.ro.add(p) {
		t.free(p) // duplicate or too late
		return
	}
	t.drain(p.at, false)
}

func (t *trackRecorder) drain(now int64, force bool) {
	for {
		p, lost := t.ro.pop(now, force)
		if p == nil {
			return
		}
		if t.video {
			t.videoPacket(p, lost)
		} else if p.n > 0 {
			t.writeFrame(true, p.ts, p.at, bytes.Clone(p.payload()))
		}
		t.free(p)
	}
}

// switchLayer moves to another simulcast layer at its key frame: the new layer has its own
// sequence numbers and timestamps, so the order and the time base start over.
func (t *trackRecorder) switchLayer(w int32) {
	t.drain(0, true)
	t.ro.restart()
	t.asm.open = false
	t.tm.started = false
	t.cur.Store(w)
	t.want.Store(-1)
}

func (t *trackRecorder) tick(now int64) {
	t.drain(now, false)
	if !t.video {
		return
	}
	if t.up.simulcast {
		t.chooseLayer(now)
	}
	if t.needKey {
		t.up.requestKeyframe(int(t.cur.Load())) // rate limited by the upTrack
	}
}

// chooseLayer aims at the highest layer that is sending: a higher one that starts, or a lower
// one when the recorded layer stops (the publisher's bandwidth dropped).
func (t *trackRecorder) chooseLayer(now int64) {
	best := int32(t.up.bestLayer(now))
	if best == t.cur.Load() {
		t.want.Store(-1)
		return
	}
	t.want.Store(best)
	t.up.requestKeyframe(int(best))
}

// frameAsm collects the packets of one VP8 frame.
type frameAsm struct {
	open bool
	key  bool
	ts   uint32
	at   int64
	data []byte
}

// videoPacket depacketizes VP8 (RFC 7741): a frame is the packets of one timestamp, from the one
// that starts partition 0 to the one with the marker bit. After a loss the frame in progress is
// dropped and nothing is written until the next key frame.
func (t *trackRecorder) videoPacket(p *recPacket, lost bool) {
	if lost {
		t.asm.open = false
		t.keyNeeded()
	}
	if p.n == 0 {
		return // padding
	}
	var vp codecs.VP8Packet
	data, err := vp.Unmarshal(p.payload())
	if err != nil || len(data) == 0 {
		t.asm.open = false
		t.keyNeeded()
		return
	}
	if t.asm.open && p.ts != t.asm.ts {
		t.asm.open = false // the previous frame never ended: its last packet is missing
		t.keyNeeded()
	}
	if vp.S == 1 && vp.PID == 0 {
		t.asm = frameAsm{open: true, key: data[0]&0x01 == 0, ts: p.ts, at: p.at, data: make([]byte, 0, 2*len(data))}
	} else if !t.asm.open {
		return
	}
	t.asm.data = append(t.asm.data, data...)
	if !p.marker {
		return
	}
	t.asm.open = false
	if t.needKey && !t.asm.key {
		return
	}
	t.needKey = false
	t.writeFrame(t.asm.key, t.asm.ts, t.asm.at, t.asm.data)
}

func (t *trackRecorder) keyNeeded() {
	if !t.needKey {
		t.needKey = true
		t.up.requestKeyframe(int(t.cur.Load()))
	}
}

// writeFrame writes one complete frame; the writer keeps data. The file is created with the
// first frame (for video, a key frame).
func (t *trackRecorder) writeFrame(key bool, ts uint32, at int64, data []byte) {
	if t.err != nil {
		return
	}
	if t.out == nil && !t.create(data, at) {
		return
	}
	if !t.tm.started {
		base := int64(0)
		if t.frames > 0 {
			base = max(t.lastMs+1, (at-t.zero)/int64(time.Millisecond))
		}
		t.tm.start(ts, base)
	}
	ms := max(t.tm.ms(ts), t.lastMs)
	// Network and scheduling only ever delay a packet: the earliest arrival, moved back by its
	// distance in RTP time from the first frame, is the best estimate of when the file starts.
	// Only the first run counts (after a layer switch, file time comes from arrival times).
	if est := at - ms*int64(time.Millisecond); ms < recZeroWindow && t.tm.base == 0 && est < t.zero {
		t.zero = est
	}
	if err := t.out.write(key, ms, data); err != nil {
		t.err = err
		t.rec.log.Warn("recording write failed", "file", t.file.File, "err", err)
		return
	}
	if t.frames > 0 {
		t.lastDur = ms - t.lastMs
	}
	t.frames++
	t.lastMs = ms
}

func (t *trackRecorder) create(first []byte, at int64) bool {
	kind := t.up.kindString()
	seg, name, path := t.rec.newFile(t.up.pubID, kind)
	out, err := createWebM(path, t.video, t.rec.wall(at), first)
	if err != nil {
		t.err = fmt.Errorf("create %s: %w", name, err)
		t.rec.log.Warn("recording file not created", "file", name, "err", err)
		return false
	}
	t.out, t.path, t.zero = out, path, at
	t.file = ManifestFile{File: name, Participant: t.up.pubID, Track: t.up.id, Kind: kind, Codec: t.codec,
		Segment: seg}
	if t.video {
		t.file.Width, t.file.Height, _ = vp8Size(first)
	}
	return true
}

// finish writes what is still held, closes the file and describes it in the recording.
func (t *trackRecorder) finish() {
	t.drain(0, true)
	if t.out == nil {
		if t.err != nil {
			t.rec.skip(t.up, t.codec, t.err.Error())
		}
		return
	}
	if err := t.out.close(); err != nil && t.err == nil {
		t.err = err
	}
	f := t.file
	f.StartOffsetMS = t.rec.offsetMS(t.zero)
	f.EndOffsetMS = t.rec.offsetMS(t.zero + (t.lastMs+t.lastDur)*int64(time.Millisecond))
	f.Frames, f.LostPackets, f.DroppedPackets = t.frames, t.ro.lost, t.dropped.Load()
	sum, size, err := hashFile(t.path)
	if err != nil && t.err == nil {
		t.err = err
	}
	f.SHA256, f.Size = sum, size
	if t.err != nil {
		f.Error = t.err.Error()
	}
	if f.DroppedPackets > 0 {
		t.rec.log.Warn("recording dropped packets: the disk was too slow", "file", f.File, "dropped", f.DroppedPackets)
	}
	t.rec.done(f)
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// tsMap turns the RTP timestamps of one run of frames into milliseconds of file time.
type tsMap struct {
	clock   int64
	started bool
	last    uint32
	ext     int64 // unwrapped distance of the last frame from the first of the run
	base    int64 // file time of the first frame of the run, ms
}

func (m *tsMap) start(ts uint32, base int64) {
	m.started, m.last, m.ext, m.base = true, ts, 0, base
}

func (m *tsMap) ms(ts uint32) int64 {
	m.ext += int64(int32(ts - m.last))
	m.last = ts
	return m.base + m.ext*1000/m.clock
}

// reorderSlots bounds how far out of order packets may arrive (a power of two).
const reorderSlots = 256

// reorder puts the packets of one RTP stream back in sequence order. After a gap it holds what
// follows until the missing packet arrives or the gap is older than recMaxHold; then it gives up
// on the missing packets and reports the loss with the next packet.
type reorder struct {
	slots   [reorderSlots]*recPacket
	next    uint16
	started bool
	held    int
	gap     bool
	lost    int64 // packets given up on
}

// farAhead reports whether seq is too far ahead of the next packet to be held.
func (o *reorder) farAhead(seq uint16) bool {
	d := seq - o.next
	return o.started && d >= reorderSlots && d < 0x8000
}

// add holds p; it reports false for a duplicate or a packet from before those already
// released (the caller frees it). The caller checks farAhead first.
func (o *reorder) add(p *recPacket) bool {
	if !o.started {
		o.next, o.started = p.seq, true
	}
	if d := p.seq - o.next; d >= reorderSlots {
		return false
	}
	i := p.seq % reorderSlots
	if o.slots[i] != nil {
		return false
	}
	o.slots[i] = p
	o.held++
	return true
}

// pop returns the next packet in order, if any; lost tells that packets before it are missing.
// With force, gaps are skipped at once.
func (o *reorder) pop(now int64, force bool) (p *recPacket, lost bool) {
	if o.held == 0 {
		return nil, false
	}
	if p = o.slots[o.next%reorderSlots]; p == nil {
		j := o.next + 1
		for o.slots[j%reorderSlots] == nil {
			j++
		}
		p = o.slots[j%reorderSlots]
		if !force && now-p.at < recMaxHold {
			return nil, false
		}
		o.lost += int64(j - o.next)
		o.next, o.gap = j, true
	}
	o.slots[o.next%reorderSlots] = nil
	o.held--
	o.next++
	lost, o.gap = o.gap, false
	return p, lost
}

// restart forgets the sequence once nothing is held: the next packet starts a new run, reported
// as following a loss.
func (o *reorder) restart() { o.started, o.gap = false, true }
