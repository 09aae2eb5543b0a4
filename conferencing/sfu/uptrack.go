package sfu

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

const (
	maxLayers = 3
	// pliInterval is the least time between two keyframe requests sent to a publisher for the
	// same layer, however many subscribers ask.
	pliInterval = int64(500 * time.Millisecond)
	// layerTimeout: a layer with no packet for this long is not offered to subscribers.
	layerTimeout = int64(2 * time.Second)
	rateWindow   = int64(time.Second)
)

// layer is one simulcast encoding of a published track (the only one without simulcast).
type layer struct {
	index int
	rid   string
	ssrc  uint32
	track *webrtc.TrackRemote

	// Owned by the reader goroutine.
	winStart int64
	winBytes int

	rate       atomic.Int64 // bit/s over the last window
	lastPacket atomic.Int64 // clock time, 0 before the first packet
	lastPLI    atomic.Int64
	pendingPLI atomic.Bool
}

func (l *layer) account(size int, now int64) {
	if l.winStart == 0 {
		l.winStart = now
	}
	l.winBytes += size
	if el := now - l.winStart; el >= rateWindow {
		l.rate.Store(int64(l.winBytes) * 8 * int64(time.Second) / el)
		l.winStart, l.winBytes = now, 0
	}
	l.lastPacket.Store(now)
}

// upTrack is a track published by one participant and forwarded to the others.
type upTrack struct {
	pubID     string
	id        string // the publisher's track id
	kind      webrtc.RTPCodecType
	codec     webrtc.RTPCodecParameters
	simulcast bool
	isVP8     bool
	isH264    bool
	levelID   uint8 // RFC 6464 header extension id, 0 if not negotiated
	clock     func() int64
	// writeRTCP sends feedback to the publisher (nil in benchmarks).
	writeRTCP func([]rtcp.Packet) error

	layers [maxLayers]atomic.Pointer[layer]

	downsMu sync.Mutex
	downs   atomic.Pointer[[]*downTrack] // copy-on-write, read per packet

	muted atomic.Bool
	epoch atomic.Uint32 // bumped on mute changes so subscribers resynchronise

	levelSum atomic.Uint64 // sum of (127 - level) since the last speaker tick
	levelN   atomic.Uint64

	rec atomic.Pointer[trackRecorder] // nil unless the room is being recorded
}

func newUpTrack(pubID string, tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver, clock func() int64,
	writeRTCP func([]rtcp.Packet) error) *upTrack {
	codec := tr.Codec()
	u := &upTrack{
		pubID:     pubID,
		id:        tr.ID(),
		kind:      tr.Kind(),
		codec:     codec,
		simulcast: tr.RID() != "",
		isVP8:     strings.EqualFold(codec.MimeType, webrtc.MimeTypeVP8),
		isH264:    strings.EqualFold(codec.MimeType, webrtc.MimeTypeH264),
		clock:     clock,
		writeRTCP: writeRTCP,
	}
	if u.kind == webrtc.RTPCodecTypeAudio && rcv != nil {
		for _, e := range rcv.GetParameters().HeaderExtensions {
			if e.URI == sdp.AudioLevelURI {
				u.levelID = uint8(e.ID)
			}
		}
	}
	empty := []*downTrack{}
	u.downs.Store(&empty)
	return u
}

// layerIndex places a rid: "q", "h", "f" by name (quarter, half, full resolution), any other rid
// by its rank among the receiver's encodings, which the client lists from low to high.
func layerIndex(rid string, rcv *webrtc.RTPReceiver) int {
	switch rid {
	case "", "q":
		return 0
	case "h":
		return 1
	case "f":
		return 2
	}
	if rcv != nil {
		for i, t := range rcv.Tracks() {
			if t.RID() == rid {
				return min(i, maxLayers-1)
			}
		}
	}
	return 0
}

// addLayer registers the layer a TrackRemote carries; it returns nil if the slot is taken.
func (u *upTrack) addLayer(tr *webrtc.TrackRemote, index int) *layer {
	l := &layer{index: index, rid: tr.RID(), ssrc: uint32(tr.SSRC()), track: tr}
	l.lastPLI.Store(math.MinInt64 / 2)
	if !u.layers[index].CompareAndSwap(nil, l) {
		return nil
	}
	return l
}

func (u *upTrack) removeLayer(l *layer) (empty bool) {
	u.layers[l.index].CompareAndSwap(l, nil)
	for i := range u.layers {
		if u.layers[i].Load() != nil {
			return false
		}
	}
	return true
}

// read forwards the packets of one layer until the track ends.
func (u *upTrack) read(l *layer) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var meta packetMeta
	for {
		n, _, err := l.track.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		u.handle(l, &pkt, n, &meta)
	}
}

// packetMeta is what the reader learns once about a packet for all its subscribers.
type packetMeta struct {
	keyframe bool
	hasVP8   bool
	vp8      vp8Desc
	level    byte // raw audio level byte (V bit and level), valid if hasLevel
	hasLevel bool
}

// handle is the forwarding hot path: it must not allocate.
func (u *upTrack) handle(l *layer, pkt *rtp.Packet, size int, m *packetMeta) {
	now := u.clock()
	l.account(size, now)
	if u.muted.Load() {
		return
	}
	*m = packetMeta{}
	if u.levelID != 0 {
		if e := pkt.Header.GetExtension(u.levelID); len(e) > 0 {
			m.level, m.hasLevel = e[0], true
			u.levelSum.Add(uint64(127 - e[0]&0x7f))
			u.levelN.Add(1)
		}
	}
	switch {
	case u.kind == webrtc.RTPCodecTypeAudio:
		m.keyframe = true
	case u.isVP8:
		m.vp8, m.hasVP8 = parseVP8(pkt.Payload)
		m.keyframe = m.vp8.keyframe
	case u.isH264:
		m.keyframe = h264Keyframe(pkt.Payload)
	}
	if m.keyframe && l.pendingPLI.Load() {
		l.pendingPLI.Store(false) // a keyframe after the request answers it
	}
	if rec := u.rec.Load(); rec != nil {
		rec.push(l.index, pkt, m.keyframe, now)
	}
	for _, d := range *u.downs.Load() {
		d.forward(l.index, pkt, m, now)
	}
}

// requestKeyframe asks the publisher for a keyframe of one layer, at most once per pliInterval; a
// request inside the interval is kept and sent by flushKeyframes when the interval is over, since
// the keyframe already asked for may have gone out before this subscriber was ready.
func (u *upTrack) requestKeyframe(index int) {
	if index < 0 || index >= maxLayers || u.kind != webrtc.RTPCodecTypeVideo || u.writeRTCP == nil {
		return
	}
	l := u.layers[index].Load()
	if l == nil {
		return
	}
	u.sendPLI(l, u.clock())
}

// flushKeyframes sends the requests kept by requestKeyframe; the publisher's loop calls it.
func (u *upTrack) flushKeyframes() {
	if u.writeRTCP == nil {
		return
	}
	now := u.clock()
	for i := range u.layers {
		if l := u.layers[i].Load(); l != nil && l.pendingPLI.Load() {
			u.sendPLI(l, now)
		}
	}
}

func (u *upTrack) sendPLI(l *layer, now int64) {
	last := l.lastPLI.Load()
	if now-last < pliInterval {
		l.pendingPLI.Store(true)
		return
	}
	if !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	l.pendingPLI.Store(false)
	_ = u.writeRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}})
}

func (u *upTrack) addDown(d *downTrack) {
	u.downsMu.Lock()
	defer u.downsMu.Unlock()
	next := append(slices.Clone(*u.downs.Load()), d)
	u.downs.Store(&next)
}

func (u *upTrack) removeDown(d *downTrack) {
	u.downsMu.Lock()
	defer u.downsMu.Unlock()
	next := slices.DeleteFunc(slices.Clone(*u.downs.Load()), func(x *downTrack) bool { return x == d })
	u.downs.Store(&next)
}

func (u *upTrack) setMuted(m bool) {
	if u.muted.Swap(m) != m {
		u.epoch.Add(1)
	}
}

// layerRates returns the bitrate of each layer that sent recently, -1 for the others.
func (u *upTrack) layerRates(now int64) [maxLayers]int64 {
	var r [maxLayers]int64
	for i := range u.layers {
		r[i] = -1
		if l := u.layers[i].Load(); l != nil {
			if lp := l.lastPacket.Load(); lp != 0 && now-lp < layerTimeout {
				r[i] = l.rate.Load()
			}
		}
	}
	return r
}

// bitrate is the sum over the layers.
func (u *upTrack) bitrate() int {
	var sum int64
	for i := range u.layers {
		if l := u.layers[i].Load(); l != nil {
			sum += l.rate.Load()
		}
	}
	return int(sum)
}

func (u *upTrack) rid(index int) string {
	if index < 0 || index >= maxLayers {
		return ""
	}
	if l := u.layers[index].Load(); l != nil {
		return l.rid
	}
	return ""
}

// indexOfRID returns the layer carrying rid, or -1.
func (u *upTrack) indexOfRID(rid string) int {
	for i := range u.layers {
		if l := u.layers[i].Load(); l != nil && l.rid == rid {
			return i
		}
	}
	return -1
}

func (u *upTrack) kindString() string { return u.kind.String() }
