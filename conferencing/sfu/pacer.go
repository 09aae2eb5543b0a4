package sfu

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// directPacer is the gcc.Pacer of every subscriber PeerConnection: like gcc.NoOpPacer it sends
// each packet at once, but it holds no lock while the packet goes down the stack. NoOpPacer keeps
// one mutex per PeerConnection across the whole write (congestion-control bookkeeping, SRTP and
// the sendto), so the reader goroutines of different published tracks, which walk the same
// subscribers, queued behind each other at every subscriber they had in common; profiles of a
// 5 + 100 room showed most of the forwarding tail waiting there. The layers below are safe for
// concurrent writes of different streams (each keeps its own short locks).
//
// It also lends the congestion controller an attribute map for the duration of a write, which it
// would otherwise allocate for every packet; nothing below the pacer keeps the map.
type directPacer struct {
	mu      sync.Mutex // serialises AddStream
	writers atomic.Pointer[map[uint32]interceptor.RTPWriter]
	attrs   sync.Pool
}

func newDirectPacer() *directPacer {
	p := &directPacer{}
	empty := map[uint32]interceptor.RTPWriter{}
	p.writers.Store(&empty)
	p.attrs.New = func() any { return interceptor.Attributes{} }
	return p
}

// AddStream implements gcc.Pacer.
func (p *directPacer) AddStream(ssrc uint32, w interceptor.RTPWriter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := maps.Clone(*p.writers.Load())
	next[ssrc] = w
	p.writers.Store(&next)
}

// SetTargetBitrate implements gcc.Pacer; there is no pacing.
func (p *directPacer) SetTargetBitrate(int) {}

// Close implements gcc.Pacer.
func (p *directPacer) Close() error { return nil }

// Write implements interceptor.RTPWriter.
func (p *directPacer) Write(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	w, ok := (*p.writers.Load())[h.SSRC]
	if !ok {
		return 0, fmt.Errorf("pacer: unknown ssrc %d", h.SSRC)
	}
	if a != nil {
		return w.Write(h, payload, a)
	}
	a = p.attrs.Get().(interceptor.Attributes)
	n, err := w.Write(h, payload, a)
	clear(a)
	p.attrs.Put(a)
	return n, err
}
