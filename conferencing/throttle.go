package conferencing

import (
	"sync"
	"time"
)

// passcodeThrottle limits wrong passcodes per meeting, so that a short passcode cannot be guessed
// through the join link.
type passcodeThrottle struct {
	mu       sync.Mutex
	failures map[int64][]time.Time
}

const (
	passcodeWindow   = time.Minute
	passcodeFailures = 10
)

func (t *passcodeThrottle) recent(id int64, now time.Time) []time.Time {
	keep := t.failures[id][:0]
	for _, at := range t.failures[id] {
		if now.Sub(at) < passcodeWindow {
			keep = append(keep, at)
		}
	}
	if len(keep) == 0 {
		delete(t.failures, id)
		return nil
	}
	t.failures[id] = keep
	return keep
}

func (t *passcodeThrottle) allow(id int64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent(id, now)) < passcodeFailures
}

func (t *passcodeThrottle) fail(id int64, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failures == nil {
		t.failures = map[int64][]time.Time{}
	}
	t.failures[id] = append(t.recent(id, now), now)
}

// bucket is a token bucket: rate tokens per second, at most burst saved up. Owned by one
// goroutine (a connection's reader), so it needs no lock.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate, burst float64, now time.Time) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// take spends one token, reporting false when none is left.
func (b *bucket) take(now time.Time) bool {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
