package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// sink is a webrtc.TrackLocalWriter that keeps (or discards) what the SFU writes.
type sink struct {
	keep []rtp.Header
	pics []uint16
	save bool
}

func (s *sink) WriteRTP(h *rtp.Header, p []byte) (int, error) {
	if s.save {
		s.keep = append(s.keep, *h)
		d, _ := parseVP8(p)
		s.pics = append(s.pics, d.pictureID(p))
	}
	return len(p), nil
}

func (s *sink) Write(b []byte) (int, error) { return len(b), nil }

// fakeTrack builds a simulcast VP8 upTrack with n subscribers bound to sinks, no Pion involved.
func fakeTrack(n int, clock func() int64) (*upTrack, []*downTrack, []*sink) {
	u := &upTrack{pubID: "pub", id: "cam", kind: webrtc.RTPCodecTypeVideo, simulcast: true, isVP8: true,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96},
		clock: clock}
	empty := []*downTrack{}
	u.downs.Store(&empty)
	for i := range maxLayers {
		u.layers[i].Store(&layer{index: i, rid: []string{"q", "h", "f"}[i], ssrc: uint32(100 + i)})
	}
	var ds []*downTrack
	var ss []*sink
	for range n {
		d := newDownTrack(u, "sub")
		s := &sink{}
		d.writer, d.ssrc, d.pt = s, 4242, 100
		d.target.Store(2)
		u.addDown(d)
		ds, ss = append(ds, d), append(ss, s)
	}
	return u, ds, ss
}

// vp8Packet marshals one single-packet VP8 frame of a layer.
func vp8Packet(layer int, seq uint16, ts uint32, pic uint16, key bool) []byte {
	payload := make([]byte, 1000)
	payload[0], payload[1] = 0x90, 0xc0 // X, S; I and L
	payload[2], payload[3] = 0x80|byte(pic>>8), byte(pic)
	payload[4] = byte(pic) // TL0PICIDX follows the picture id here
	payload[5] = 0x01
	if key {
		payload[5] = 0x00
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, PayloadType: 96, SequenceNumber: seq,
		Timestamp: ts, SSRC: uint32(100 + layer)}, Payload: payload}
	b, _ := p.Marshal()
	return b
}

// The forwarder turns two layers with unrelated numbering into one stream: a switch waits for a
// keyframe, and sequence numbers, timestamps and picture ids continue where they stopped.
func TestForwarderSwitchKeepsNumbering(t *testing.T) {
	now := int64(1)
	u, ds, ss := fakeTrack(1, func() int64 { return now })
	d, s := ds[0], ss[0]
	s.save = true
	d.target.Store(0)
	var pkt rtp.Packet
	var m packetMeta
	feed := func(layer int, seq uint16, ts uint32, pic uint16, key bool) {
		now += int64(50 * time.Millisecond)
		if err := pkt.Unmarshal(vp8Packet(layer, seq, ts, pic, key)); err != nil {
			t.Fatal(err)
		}
		u.handle(u.layers[layer].Load(), &pkt, 1000, &m)
	}
	feed(0, 500, 9000, 10, false) // no keyframe yet: dropped
	for i := range uint16(5) {
		feed(0, 501+i, 9000+uint32(i)*4500, 11+i, i == 0)
		feed(2, 60000+i, 123456+uint32(i)*4500, 3000+i, false)
	}
	d.setTarget(2)
	feed(2, 60005, 123456+5*4500, 3005, false) // inter frame of the target: not yet
	feed(0, 506, 9000+5*4500, 16, false)       // still the old layer
	feed(2, 60006, 123456+6*4500, 3006, true)  // keyframe: switch
	feed(0, 507, 9000+6*4500, 17, false)       // old layer: dropped now
	feed(2, 60004, 123456+4*4500, 3004, false) // late packet from before the switch: dropped
	feed(2, 60007, 123456+7*4500, 3007, false)

	if len(s.keep) != 8 {
		t.Fatalf("forwarded %d packets, want 8", len(s.keep))
	}
	for i := 1; i < len(s.keep); i++ {
		a, b := s.keep[i-1], s.keep[i]
		if b.SequenceNumber != a.SequenceNumber+1 || b.SSRC != 4242 || b.PayloadType != 100 {
			t.Errorf("packet %d: seq %d after %d, ssrc %d, pt %d", i, b.SequenceNumber, a.SequenceNumber, b.SSRC, b.PayloadType)
		}
		if dt := b.Timestamp - a.Timestamp; dt == 0 || dt > 90000 {
			t.Errorf("packet %d: timestamp step %d", i, dt)
		}
		if s.pics[i] != s.pics[i-1]+1 {
			t.Errorf("packet %d: picture id %d after %d", i, s.pics[i], s.pics[i-1])
		}
	}
	if d.current.Load() != 2 {
		t.Errorf("current layer %d, want 2", d.current.Load())
	}

	// A mute pause on audio-free video works the same way: resume on a keyframe, no gap.
	u.setMuted(true)
	feed(2, 60008, 123456+8*4500, 3008, false)
	u.setMuted(false)
	feed(2, 60009, 123456+9*4500, 3009, false)
	feed(2, 60010, 123456+10*4500, 3010, true)
	last := s.keep[len(s.keep)-1]
	if len(s.keep) != 9 || last.SequenceNumber != s.keep[7].SequenceNumber+1 {
		t.Errorf("after unmute: %d packets, last seq %d", len(s.keep), last.SequenceNumber)
	}
}

// The forwarding path allocates nothing per packet.
func TestForwardDoesNotAllocate(t *testing.T) {
	start := time.Now()
	u, _, _ := fakeTrack(10, func() int64 { return int64(time.Since(start)) + 1 })
	raw := vp8Packet(2, 1, 1, 1, true)
	var pkt rtp.Packet
	var m packetMeta
	l := u.layers[2].Load()
	seq := uint16(0)
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		raw[2], raw[3] = byte(seq>>8), byte(seq)
		_ = pkt.Unmarshal(raw)
		u.handle(l, &pkt, len(raw), &m)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet", allocs)
	}
}

// BenchmarkForward measures the hot path: parse one VP8 simulcast packet and forward it to N
// subscribers (rewriting header, picture id and TL0PICIDX for each). ns/op is per packet.
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(map[int]string{1: "subs=1", 10: "subs=10", 100: "subs=100"}[n], func(b *testing.B) {
			start := time.Now()
			u, _, _ := fakeTrack(n, func() int64 { return int64(time.Since(start)) + 1 })
			raw := vp8Packet(2, 1, 1, 1, true)
			var pkt rtp.Packet
			var m packetMeta
			l := u.layers[2].Load()
			seq := uint16(0)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				seq++
				raw[2], raw[3] = byte(seq>>8), byte(seq)
				_ = pkt.Unmarshal(raw)
				u.handle(l, &pkt, len(raw), &m)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subscriber")
		})
	}
}
