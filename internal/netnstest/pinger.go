package netnstest

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// Pinger sends ICMP echo requests from inside a namespace through a raw socket and records when
// each reply came, so tests need no ping binary and count losses exactly.
type Pinger struct {
	c   net.PacketConn
	dst netip.Addr
	id  uint16

	mu      sync.Mutex
	seq     uint16
	sent    map[uint16]time.Time
	got     map[uint16]time.Time
	replies chan uint16
}

// NewPinger opens a raw ICMP socket in namespace ns for echoes to dst; it closes with the test.
func NewPinger(t testing.TB, ns, dst string) *Pinger {
	t.Helper()
	p := &Pinger{dst: netip.MustParseAddr(dst), sent: map[uint16]time.Time{}, got: map[uint16]time.Time{},
		replies: make(chan uint16, 1024)}
	var idb [2]byte
	rand.Read(idb[:])
	p.id = binary.BigEndian.Uint16(idb[:])
	if err := Do(ns, func() (err error) { p.c, err = net.ListenPacket("ip4:icmp", "0.0.0.0"); return err }); err != nil {
		t.Fatalf("icmp socket in %s: %v", ns, err)
	}
	t.Cleanup(func() { p.c.Close() })
	go p.read()
	return p
}

// Dst is the address pinged.
func (p *Pinger) Dst() netip.Addr { return p.dst }

func (p *Pinger) read() {
	buf := make([]byte, 1500)
	for {
		n, from, err := p.c.ReadFrom(buf)
		if err != nil {
			return
		}
		m := buf[:n] // Go strips the IPv4 header from raw ip4 sockets
		if n < 8 || m[0] != 0 || binary.BigEndian.Uint16(m[4:]) != p.id {
			continue
		}
		if a, ok := netip.AddrFromSlice(from.(*net.IPAddr).IP); !ok || a.Unmap() != p.dst {
			continue
		}
		seq := binary.BigEndian.Uint16(m[6:])
		p.mu.Lock()
		if _, ok := p.sent[seq]; ok {
			if _, dup := p.got[seq]; !dup {
				p.got[seq] = time.Now()
				select {
				case p.replies <- seq:
				default: // nobody waits for single replies during a flood
				}
			}
		}
		p.mu.Unlock()
	}
}

// Send sends the next echo request and returns its sequence number.
func (p *Pinger) Send() uint16 {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.sent[seq] = time.Now()
	p.mu.Unlock()
	m := []byte{8, 0, 0, 0, 0, 0, 0, 0, 'r', 'o', 'c', 'c', 'a', '!'}
	binary.BigEndian.PutUint16(m[4:], p.id)
	binary.BigEndian.PutUint16(m[6:], seq)
	var sum uint32
	for i := 0; i+1 < len(m); i += 2 {
		sum += uint32(m[i])<<8 | uint32(m[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(m[2:], ^uint16(sum))
	p.c.WriteTo(m, &net.IPAddr{IP: p.dst.AsSlice()}) // an error (no route) is a lost packet
	return seq
}

// Answered sends one echo and reports whether its reply comes within wait.
func (p *Pinger) Answered(wait time.Duration) bool {
	seq := p.Send()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case s := <-p.replies:
			if s == seq {
				return true
			}
		case <-timer.C:
			return false
		}
	}
}

// Reachable reports whether an echo is answered within limit (a tunnel may still be handshaking,
// so it retries).
func (p *Pinger) Reachable(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !p.Answered(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// Flood pings every interval until stop is closed, then waits up to three seconds for the last
// replies. It returns the first and last sequence numbers it sent (0, 0 when it sent none).
func (p *Pinger) Flood(interval time.Duration, stop <-chan struct{}) (first, last uint16) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			if first != 0 {
				deadline := time.Now().Add(3 * time.Second)
				for p.Lost(first, last) > 0 && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
			}
			return first, last
		case <-tick.C:
			last = p.Send()
			if first == 0 {
				first = last
			}
		}
	}
}

// Lost counts the echoes from first to last (inclusive) without a reply.
func (p *Pinger) Lost(first, last uint16) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for s := first; s != last+1; s++ {
		if _, ok := p.got[s]; !ok {
			n++
		}
	}
	return n
}

// MaxRTT is the longest round trip of the echoes from first to last that were answered.
func (p *Pinger) MaxRTT(first, last uint16) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var m time.Duration
	for s := first; s != last+1; s++ {
		if at, ok := p.got[s]; ok {
			m = max(m, at.Sub(p.sent[s]))
		}
	}
	return m
}

// RepliesSince counts the replies to echoes sent after seq.
func (p *Pinger) RepliesSince(seq uint16) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for s := range p.got {
		if s > seq {
			n++
		}
	}
	return n
}

// AnsweredAfter reports the echoes sent at or after t that got a reply, and the time of the last
// reply to any echo.
func (p *Pinger) AnsweredAfter(t time.Time) (n int, lastReply time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, at := range p.got {
		if !p.sent[s].Before(t) {
			n++
		}
		if at.After(lastReply) {
			lastReply = at
		}
	}
	return n, lastReply
}

// LastSeq is the sequence number of the last echo sent.
func (p *Pinger) LastSeq() uint16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}
