package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// lastLayer returns the simulcast layer (byte 5 of the synthetic payload) of the latest video
// packet received from publisher.
func lastLayer(c *client, publisher string) int {
	r := c.received(publisher, webrtc.RTPCodecTypeVideo)
	if r == nil {
		return -1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.payloads) == 0 {
		return -1
	}
	return int(r.payloads[len(r.payloads)-1][5])
}

// A subscriber gets the high layer while bandwidth allows, drops to the low one when its bitrate
// is capped, takes the middle one when it asks for a smaller tile, and never sees a hole in
// sequence numbers or picture ids; every switch happens on a keyframe.
func TestSimulcastLayerSwitch(t *testing.T) {
	s := newTestSFU(t, nil)
	r, _ := s.Room("r")
	pubc := newClient(t, "pub", clientOpts{})
	pub := pubc.addTracks("q", "h", "f")
	pubc.join(r, JoinOptions{})
	waitFor(t, long, "publisher connected", func() bool {
		return pubc.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	pubc.send(pub)
	sub := newClient(t, "sub", clientOpts{})
	sub.join(r, JoinOptions{NoPublish: true})

	steps := []struct {
		name  string
		do    func() error
		layer int
	}{
		{"start", func() error { return nil }, 2},
		{"bitrate capped", func() error { return sub.p.SetMaxBitrate(20_000) }, 0},
		{"cap lifted, small tile", func() error {
			if err := sub.p.SetPreferredLayer("pub", "pub-video", "h"); err != nil {
				return err
			}
			return sub.p.SetMaxBitrate(0)
		}, 1},
		{"large tile", func() error { return sub.p.SetPreferredLayer("pub", "pub-video", "") }, 2},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		waitFor(t, long, st.name+": layer "+layerSizeName(st.layer), func() bool { return lastLayer(sub, "pub") == st.layer })
		// Stay there: the layer must be stable, not flapping.
		base := sub.packetsFrom("pub", webrtc.RTPCodecTypeVideo)
		waitFor(t, long, st.name+": more packets", func() bool { return sub.packetsFrom("pub", webrtc.RTPCodecTypeVideo) > base+20 })
		if got := lastLayer(sub, "pub"); got != st.layer {
			t.Fatalf("%s: layer %d, want %d", st.name, got, st.layer)
		}
	}

	rv := sub.received("pub", webrtc.RTPCodecTypeVideo)
	assertContiguous(t, rv)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	switches := 0
	for i := 1; i < len(rv.seqs); i++ {
		prev, cur := rv.payloads[i-1], rv.payloads[i]
		if rv.seqs[i] != rv.seqs[i-1]+1 {
			continue // reordered; contiguity is checked above
		}
		pic := func(p []byte) uint16 { return uint16(p[2]&0x7f)<<8 | uint16(p[3]) }
		if pic(cur) != (pic(prev)+1)&0x7fff {
			t.Errorf("picture id jumps from %d to %d at packet %d", pic(prev), pic(cur), i)
		}
		if d := rv.tss[i] - rv.tss[i-1]; d == 0 || d > 1<<31 {
			t.Errorf("timestamp goes from %d to %d at packet %d", rv.tss[i-1], rv.tss[i], i)
		}
		if cur[5] != prev[5] {
			switches++
			if cur[4]&0x01 != 0 {
				t.Errorf("switch from layer %d to %d on an inter frame", prev[5], cur[5])
			}
		}
	}
	if switches < 3 {
		t.Errorf("saw %d layer switches, want at least 3", switches)
	}
}

func layerSizeName(i int) string { return []string{"q", "h", "f"}[i] }

// Keyframe requests from a subscriber reach the publisher as PLI, at most one per 500 ms.
func TestPLIForwarded(t *testing.T) {
	s := newTestSFU(t, nil)
	r, _ := s.Room("r")
	cs := joinAndPublish(t, r, "pub", "sub")
	pub, sub := cs[0], cs[1]
	receivesAll(t, cs, 10)
	rv := sub.received("pub", webrtc.RTPCodecTypeVideo)

	before := pub.plis.Load()
	start := time.Now()
	for range 20 {
		if err := sub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: rv.ssrc}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, long, "a PLI at the publisher", func() bool { return pub.plis.Load() > before })
	time.Sleep(time.Second) // any PLI still in flight
	got := pub.plis.Load() - before
	allowed := 2 + int64(time.Since(start)/(500*time.Millisecond))
	if got > allowed {
		t.Errorf("publisher got %d PLIs for a burst of 20, rate limit allows %d", got, allowed)
	}
	// A FIR is forwarded as a PLI too, once the limit allows.
	time.Sleep(600 * time.Millisecond)
	before = pub.plis.Load()
	if err := sub.pc.WriteRTCP([]rtcp.Packet{&rtcp.FullIntraRequest{MediaSSRC: rv.ssrc,
		FIR: []rtcp.FIREntry{{SSRC: rv.ssrc, SequenceNumber: 1}}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, long, "the FIR at the publisher", func() bool { return pub.plis.Load() > before })
}
