package sfu

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// downTrack sends one upTrack to one subscriber. It is the subscriber's webrtc.TrackLocal: Pion
// binds it when negotiation completes and the upTrack's readers call forward for each packet.
type downTrack struct {
	up       *upTrack
	subID    string
	msidID   string // track id in the subscriber's SDP
	streamID string
	codec    webrtc.RTPCodecCapability

	// Owned by the subscriber's loop.
	transceiver *webrtc.RTPTransceiver
	mid         string
	prefRID     string // tile-size cap asked by the client, "" for none
	lastBytes   uint64
	lastAt      int64
	rate        int

	target  atomic.Int32 // layer the allocator wants
	current atomic.Int32 // layer being forwarded, -1 before the first keyframe
	bytes   atomic.Uint64

	mu       sync.Mutex // guards what follows; taken per packet, contended only during a switch
	writer   webrtc.TrackLocalWriter
	ssrc     uint32
	pt       uint8
	levelID  uint8
	fwd      forwarder
	out      rtp.Header
	ext      [4]rtp.Extension
	levelBuf [1]byte
	scratch  [1500]byte
}

func newDownTrack(up *upTrack, subID string) *downTrack {
	d := &downTrack{
		up:       up,
		subID:    subID,
		streamID: msidToken(up.pubID),
		msidID:   msidToken(up.pubID + "-" + up.id),
		codec:    up.codec.RTPCodecCapability,
	}
	d.current.Store(-1)
	d.fwd.reset(up.codec.ClockRate)
	return d
}

// msidToken makes s usable as an SDP msid identifier: token characters only, at most 64.
func msidToken(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '!' || (c >= '#' && c <= '\'') || c == '*' || c == '+' || c == '-' || c == '.' ||
			(c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= '^' && c <= '~')
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[len(b)-64:]
	}
	return string(b)
}

// Bind implements webrtc.TrackLocal.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	var levelID uint8
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == sdp.AudioLevelURI {
			levelID = uint8(e.ID)
		}
	}
	d.mu.Lock()
	d.writer = ctx.WriteStream()
	d.ssrc = uint32(ctx.SSRC())
	d.pt = uint8(codec.PayloadType)
	d.levelID = levelID
	d.fwd.reset(d.codec.ClockRate)
	d.mu.Unlock()
	d.current.Store(-1)
	d.up.requestKeyframe(int(d.target.Load()))
	return codec, nil
}

// Unbind implements webrtc.TrackLocal.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.writer = nil
	d.mu.Unlock()
	return nil
}

func (d *downTrack) ID() string                { return d.msidID }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) StreamID() string          { return d.streamID }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.up.kind }

// matchCodec finds the negotiated parameters for the publisher's codec: same MIME type and, for
// H.264, the same profile when available.
func matchCodec(want webrtc.RTPCodecCapability, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var found webrtc.RTPCodecParameters
	ok := false
	for _, c := range have {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			return c, true
		}
		if !ok {
			found, ok = c, true
		}
	}
	return found, ok
}

// forward sends one packet of layer index if this subscriber wants it. Called by the publisher's
// reader goroutines; must not allocate.
func (d *downTrack) forward(index int, pkt *rtp.Packet, m *packetMeta, now int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writer == nil {
		return
	}
	f := &d.fwd
	if e := d.up.epoch.Load(); e != f.epoch {
		f.epoch, f.cur = e, -1
	}
	layer := int8(index)
	if layer != f.cur {
		target := int8(d.target.Load())
		if layer != target {
			return
		}
		if !m.keyframe {
			if f.cur < 0 {
				d.up.requestKeyframe(index)
			}
			return
		}
		f.switchTo(layer, &pkt.Header, pkt.Payload, m, now)
		d.current.Store(int32(layer))
	} else if seqBefore(pkt.SequenceNumber, f.switchSeq) {
		return // a late packet from before the switch point
	}

	d.out = pkt.Header
	d.out.SSRC = d.ssrc
	d.out.PayloadType = d.pt
	d.out.SequenceNumber = pkt.SequenceNumber - f.seqOff
	d.out.Timestamp = pkt.Timestamp - f.tsOff
	// The publisher's extension ids mean nothing to the subscriber: keep only the audio level,
	// under the subscriber's id. Interceptors append transport-cc to the same backing array.
	d.out.Extension, d.out.ExtensionProfile, d.out.Extensions = false, 0, d.ext[:0]
	if m.hasLevel && d.levelID != 0 {
		d.levelBuf[0] = m.level
		_ = d.out.SetExtension(d.levelID, d.levelBuf[:])
	}
	payload := pkt.Payload
	if m.hasVP8 && d.up.simulcast && (m.vp8.picLen > 0 || m.vp8.tl0Off > 0) && len(payload) <= len(d.scratch) {
		// The payload is shared by all subscribers: rewrite a private copy.
		payload = d.scratch[:copy(d.scratch[:], payload)]
		f.rewriteVP8(payload, &m.vp8)
	}
	f.sent(d.out.SequenceNumber, d.out.Timestamp, now)
	if _, err := d.writer.WriteRTP(&d.out, payload); err == nil {
		d.bytes.Add(uint64(len(payload) + 12))
	}
}

// setTarget points the forwarder at another layer; it switches at the layer's next keyframe,
// which it asks the publisher for.
func (d *downTrack) setTarget(index int) {
	if d.target.Swap(int32(index)) != int32(index) && d.current.Load() != int32(index) {
		d.up.requestKeyframe(index)
	}
}

// readRTCP forwards the subscriber's keyframe requests to the publisher until the sender stops.
// Reading also lets the interceptors see NACKs, reports and transport-cc feedback. It reads into
// one buffer and uses the packets the interceptors already parsed: RTPSender.ReadRTCP would
// allocate a buffer and parse again for every feedback packet.
func (d *downTrack) readRTCP(s *webrtc.RTPSender) {
	if s == nil {
		return
	}
	buf := make([]byte, rtcpBufferSize)
	for {
		n, attrs, err := s.Read(buf)
		if err != nil {
			return
		}
		pkts, err := attrs.GetRTCPPackets(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				l := d.current.Load()
				if l < 0 {
					l = d.target.Load()
				}
				d.up.requestKeyframe(int(l))
			}
		}
	}
}

// rtcpBufferSize holds any RTCP datagram (Pion's receive MTU).
const rtcpBufferSize = 1500

func (d *downTrack) info() TrackInfo {
	return TrackInfo{
		PublisherID: d.up.pubID,
		TrackID:     d.up.id,
		Mid:         d.mid,
		StreamID:    d.streamID,
		Kind:        d.up.kindString(),
		Codec:       d.codec.MimeType,
		Simulcast:   d.up.simulcast,
	}
}

// forwarder rewrites sequence numbers, timestamps and VP8 picture ids so that the subscriber sees
// one continuous stream across layer switches and mute pauses.
type forwarder struct {
	clock     uint32
	started   bool
	cur       int8 // layer forwarded, -1: waiting for a keyframe
	epoch     uint32
	switchSeq uint16 // first sequence number of the current layer run

	seqOff uint16
	tsOff  uint32
	picOff uint16
	tl0Off uint8

	lastSeq uint16
	lastTS  uint32
	lastAt  int64
	lastPic uint16
	lastTL0 uint8
}

func (f *forwarder) reset(clock uint32) {
	*f = forwarder{clock: clock, cur: -1}
}

// switchTo starts forwarding a new layer (or resumes after a pause) at packet h, a keyframe,
// choosing offsets so that its first packet follows the last one sent.
func (f *forwarder) switchTo(layer int8, h *rtp.Header, payload []byte, m *packetMeta, now int64) {
	if !f.started {
		f.seqOff, f.tsOff, f.picOff, f.tl0Off = 0, 0, 0, 0
		f.started = true
	} else {
		f.seqOff = h.SequenceNumber - (f.lastSeq + 1)
		delta := uint32(1)
		if el := now - f.lastAt; el > 0 {
			delta = max(1, uint32(uint64(el)*uint64(f.clock)/1e9))
		}
		f.tsOff = h.Timestamp - (f.lastTS + delta)
		if m.hasVP8 && m.vp8.picLen > 0 {
			f.picOff = m.vp8.pictureID(payload) - (f.lastPic + 1)
		}
		if m.hasVP8 && m.vp8.tl0Off > 0 {
			f.tl0Off = payload[m.vp8.tl0Off] - (f.lastTL0 + 1)
		}
	}
	f.cur = layer
	f.switchSeq = h.SequenceNumber
}

// sent records the last packet written, in output numbering.
func (f *forwarder) sent(seq uint16, ts uint32, now int64) {
	if f.lastAt == 0 || !seqBefore(seq, f.lastSeq) {
		f.lastSeq, f.lastTS, f.lastAt = seq, ts, now
	}
}

// rewriteVP8 maps the picture id and TL0PICIDX of a private payload copy into output numbering.
func (f *forwarder) rewriteVP8(p []byte, d *vp8Desc) {
	if d.picLen > 0 {
		id := (d.pictureID(p) - f.picOff) & d.picMask()
		d.setPictureID(p, id)
		f.lastPic = id
	}
	if d.tl0Off > 0 {
		p[d.tl0Off] -= f.tl0Off
		f.lastTL0 = p[d.tl0Off]
	}
}

// seqBefore reports whether a precedes b in 16-bit sequence space.
func seqBefore(a, b uint16) bool { return a != b && b-a < 0x8000 }
