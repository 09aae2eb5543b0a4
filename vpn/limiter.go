package vpn

import (
	"sync"
	"time"
)

// The link pages refuse a client address after this many requests for links that never existed
// within the window: guessing a 256-bit token is hopeless anyway, this keeps scanners away.
const (
	linkFailures = 10
	linkWindow   = 10 * time.Minute
)

// limiter counts failures per client address in a sliding window.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
}

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, fails: map[string][]time.Time{}}
}

// allowed reports whether ip may try again.
func (l *limiter) allowed(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(ip)) < l.max
}

// fail records a failure of ip.
func (l *limiter) fail(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[ip] = append(l.recent(ip), l.now())
	if len(l.fails) > 10000 { // a flood of addresses: forget the idle ones
		for k := range l.fails {
			if len(l.recent(k)) == 0 {
				delete(l.fails, k)
			}
		}
	}
}

// recent drops the failures of ip older than the window; the caller holds mu.
func (l *limiter) recent(ip string) []time.Time {
	cut := l.now().Add(-l.window)
	list := l.fails[ip]
	i := 0
	for i < len(list) && list[i].Before(cut) {
		i++
	}
	list = list[i:]
	if len(list) == 0 {
		delete(l.fails, ip)
		return nil
	}
	l.fails[ip] = list
	return list
}
