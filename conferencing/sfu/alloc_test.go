package sfu

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// fixedBWE is a bandwidth estimator stuck at one value.
type fixedBWE int

func (b fixedBWE) AddStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return w
}
func (b fixedBWE) WriteRTCP([]rtcp.Packet, interceptor.Attributes) error { return nil }
func (b fixedBWE) GetTargetBitrate() int                                 { return int(b) }
func (b fixedBWE) OnTargetBitrateChange(func(int))                       {}
func (b fixedBWE) GetStats() map[string]any                              { return nil }
func (b fixedBWE) Close() error                                          { return nil }

// The allocator fits the layers to the estimate (minus audio), round robin, within tile caps.
func TestAllocateFitsEstimate(t *testing.T) {
	s := &SFU{start: time.Now()}
	now := s.now()
	p := &Participant{room: &Room{s: s}, subs: map[trackKey]*downTrack{}}
	var downs []*downTrack
	for _, name := range []string{"a", "b", "c"} {
		u, _, _ := fakeTrack(0, s.now)
		u.pubID = name
		for i, rate := range []int64{100_000, 300_000, 1_000_000} {
			l := u.layers[i].Load()
			l.rate.Store(rate)
			l.lastPacket.Store(now)
		}
		d := newDownTrack(u, "me")
		p.subs[trackKey{name, u.id}] = d
		downs = append(downs, d)
	}
	audio := &upTrack{pubID: "a", id: "mic", kind: webrtc.RTPCodecTypeAudio, clock: s.now}
	audio.layers[0].Store(&layer{})
	audio.layers[0].Load().rate.Store(40_000)
	p.subs[trackKey{"a", "mic"}] = newDownTrack(audio, "me")

	tests := []struct {
		estimate int
		tile     string // cap on a's video
		want     [3]int32
	}{
		{5_000_000, "", [3]int32{2, 2, 2}},
		{1_500_000, "", [3]int32{1, 1, 1}},
		{200_000, "", [3]int32{0, 0, 0}},
		{2_200_000, "q", [3]int32{0, 2, 2}},
		{2_200_000, "h", [3]int32{1, 2, 1}},
	}
	for _, tt := range tests {
		p.bwe = fixedBWE(tt.estimate)
		downs[0].prefRID = tt.tile
		p.allocate()
		got := [3]int32{downs[0].target.Load(), downs[1].target.Load(), downs[2].target.Load()}
		if got != tt.want {
			t.Errorf("estimate %d, tile %q: layers %v, want %v", tt.estimate, tt.tile, got, tt.want)
		}
	}
	// A layer that stopped sending is not chosen.
	downs[1].up.layers[2].Load().lastPacket.Store(now - 2*layerTimeout)
	downs[0].prefRID = ""
	p.bwe = fixedBWE(5_000_000)
	p.allocate()
	if got := downs[1].target.Load(); got != 1 {
		t.Errorf("stalled top layer: target %d, want 1", got)
	}
}
