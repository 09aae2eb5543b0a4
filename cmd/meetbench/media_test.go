package main

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestTrailerSurvivesRTP: the trailer written into a payload is read back from the marshalled
// packet, with a header extension and padding in the way.
func TestTrailerSurvivesRTP(t *testing.T) {
	payload := make([]byte, 80)
	putTrailer(payload, 123456789, 7, kindVideo, 42)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1, Padding: true, PaddingSize: 3}, Payload: payload}
	if err := pkt.Header.SetExtension(1, []byte{0x80 | 30}); err != nil {
		t.Fatal(err)
	}
	if err := pkt.Header.SetExtension(3, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	raw, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sent, pub, kind, ok := readTrailer(raw)
	if !ok || sent != 123456789 || pub != 7 || kind != kindVideo {
		t.Fatalf("readTrailer = %d, %d, %d, %v", sent, pub, kind, ok)
	}
	raw[len(raw)-3-trailerLen+11] ^= 0xff // the magic byte (before 3 bytes of padding)
	if _, _, _, ok := readTrailer(raw); ok {
		t.Fatal("a payload without the magic byte was accepted")
	}
	if _, _, _, ok := readTrailer(raw[:10]); ok {
		t.Fatal("a truncated packet was accepted")
	}
}

// TestVP8Frame: a frame is split into packets no larger than maxPayload that add up to its size,
// with the start bit on the first only, the PictureID on each, and the key frame bit as asked.
func TestVP8Frame(t *testing.T) {
	var store [][]byte
	for _, key := range []bool{true, false} {
		bufs := vp8Frame(&store, 2083, 0x1234, key)
		if len(bufs) != 2 {
			t.Fatalf("%d packets, want 2", len(bufs))
		}
		total := 0
		for i, p := range bufs {
			total += len(p)
			if len(p) > maxPayload {
				t.Errorf("packet %d: %d bytes", i, len(p))
			}
			if start := p[0]&0x10 != 0; start != (i == 0) {
				t.Errorf("packet %d: start bit %v", i, start)
			}
			if p[1] != 0x80 || p[2] != 0x80|0x12 || p[3] != 0x34 {
				t.Errorf("packet %d: descriptor % x", i, p[:4])
			}
		}
		if total != 2083 {
			t.Errorf("frame of %d bytes, want 2083", total)
		}
		if isKey := bufs[0][4]&0x01 == 0; isKey != key {
			t.Errorf("key frame bit says %v, want %v", isKey, key)
		}
	}
}

// TestHistogram: quantiles land on the right bucket, fine and coarse, and the slots keep the
// worst latency of their stretch of send time.
func TestHistogram(t *testing.T) {
	w := newWindow()
	w.start.Store(int64(time.Second))
	var h histogram
	for range 98 {
		h.add(int64(time.Second), int64(100*time.Microsecond), w)
	}
	h.add(int64(time.Second+slotLen), int64(3*time.Millisecond), w)
	h.add(int64(time.Second+2*slotLen), int64(300*time.Millisecond), w)
	if q := h.quantile(0.5); q != 105*time.Microsecond {
		t.Errorf("p50 = %s, want 105µs", q)
	}
	if q := h.quantile(0.99); q != 3005*time.Microsecond {
		t.Errorf("p99 = %s, want 3.005ms", q)
	}
	if q := h.quantile(1); q != 300*time.Millisecond {
		t.Errorf("p100 = %s, want 300ms", q)
	}
	if o := h.over(5 * time.Millisecond); o != 0.01 {
		t.Errorf("over 5 ms = %v, want 0.01", o)
	}
	if s := time.Duration(h.slots[2].Load()); s != 300*time.Millisecond {
		t.Errorf("slot 2 = %s", s)
	}
}
