package sfu

import "sync"

// mailbox is an unbounded queue of commands for a participant loop. push never blocks, so Pion
// callbacks and other loops can post to a participant without risking a deadlock.
type mailbox struct {
	mu     sync.Mutex
	q      []func()
	ready  chan struct{}
	closed bool
}

func newMailbox() *mailbox { return &mailbox{ready: make(chan struct{}, 1)} }

// push queues f; it reports false once the mailbox is closed.
func (m *mailbox) push(f func()) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	m.q = append(m.q, f)
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
	return true
}

// take returns the queued commands, oldest first.
func (m *mailbox) take() []func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.q
	m.q = nil
	return q
}

// close refuses further commands and returns those still queued.
func (m *mailbox) close() []func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	q := m.q
	m.q = nil
	return q
}
