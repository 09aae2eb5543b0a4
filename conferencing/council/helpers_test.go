package council

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for the media window.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// assembly17 is a council of 17 seats, all counted for the quorum.
func assembly17() []Member {
	ms := make([]Member, 17)
	for i := range ms {
		ms[i] = Member{ID: fmt.Sprintf("m%02d", i+1), Name: fmt.Sprintf("Consigliere %d", i+1), Seat: i + 1, CountsForQuorum: true}
	}
	return ms
}

type fixture struct {
	s    *Session
	clk  *clock
	path string
	key  ed25519.PrivateKey
}

func newFixture(t testing.TB, ms []Member, rule QuorumRule) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "council", "s1.record")
	rec, err := CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)}
	s, err := New(Config{ID: "s1", Title: "Consiglio comunale", Members: ms, Quorum: rule,
		MediaWindow: 10 * time.Second, Now: clk.Now, Record: rec})
	if err != nil {
		t.Fatal(err)
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)) // fixed: the same record in every fuzz worker
	t.Cleanup(func() { _ = rec.Close() })
	return &fixture{s: s, clk: clk, path: path, key: key}
}

// arrive connects a member, delivers media and confirms "presente".
func (f *fixture) arrive(t testing.TB, id string) {
	t.Helper()
	for _, step := range []func(string) error{f.s.Connect, f.s.MediaReceived, f.s.Confirm} {
		if err := step(id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
}

// keepAlive reports media for ids, as the media engine's statistics would.
func (f *fixture) keepAlive(t testing.TB, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := f.s.MediaReceived(id); err != nil {
			t.Fatal(err)
		}
	}
}
