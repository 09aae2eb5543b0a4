package sfu

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// The pacer sends each packet to its stream's writer at once, lends the writer an attribute map
// (the congestion controller stores the transport-cc id in it) and allocates nothing per packet.
func TestDirectPacerWrites(t *testing.T) {
	p := newDirectPacer()
	var got []uint32
	var attrsSeen int
	p.AddStream(1, interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		got = append(got[:0], h.SSRC)
		if a != nil && len(a) == 0 {
			attrsSeen++
		}
		a.Set(1, uint8(5)) // as gcc does; the map comes back cleared next time
		return len(payload), nil
	}))
	p.AddStream(2, interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
		got = append(got[:0], h.SSRC)
		return len(payload), nil
	}))
	h := rtp.Header{SSRC: 2}
	if n, err := p.Write(&h, make([]byte, 10), nil); err != nil || n != 10 || got[0] != 2 {
		t.Fatalf("write to stream 2: n=%d err=%v got=%v", n, err, got)
	}
	if _, err := p.Write(&rtp.Header{SSRC: 3}, nil, nil); err == nil {
		t.Error("write to an unknown stream: no error")
	}
	h.SSRC = 1
	payload := make([]byte, 100)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Write(&h, payload, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per write", allocs)
	}
	if attrsSeen != 101 || got[0] != 1 {
		t.Errorf("stream 1: %d writes with a fresh attribute map, last ssrc %v", attrsSeen, got)
	}
}

// A write that takes long (a slow sendto) does not hold up another stream of the same
// connection: gcc.NoOpPacer held one lock across every write.
func TestDirectPacerDoesNotSerialiseStreams(t *testing.T) {
	p := newDirectPacer()
	entered, release := make(chan struct{}), make(chan struct{})
	p.AddStream(1, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) {
		close(entered)
		<-release
		return 0, nil
	}))
	p.AddStream(2, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) {
		return 0, nil
	}))
	first := make(chan error, 1)
	go func() {
		_, err := p.Write(&rtp.Header{SSRC: 1}, nil, nil)
		first <- err
	}()
	<-entered
	second := make(chan error, 1)
	go func() {
		_, err := p.Write(&rtp.Header{SSRC: 2}, nil, nil)
		second <- err
	}()
	select {
	case err := <-second:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Error("a write to stream 2 waited for stream 1's write")
	}
	close(release)
	if err := <-first; err != nil {
		t.Error(err)
	}
}
