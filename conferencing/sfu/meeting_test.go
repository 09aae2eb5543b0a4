package sfu

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

const long = 20 * time.Second // deadline against hangs, never a speed requirement

// receivesAll waits until every client has received atLeast more packets of audio and of video
// from every other one.
func receivesAll(t *testing.T, clients []*client, atLeast int) {
	t.Helper()
	type flow struct {
		c, o *client
		kind webrtc.RTPCodecType
		base int
	}
	var flows []flow
	for _, c := range clients {
		for _, o := range clients {
			if o == c {
				continue
			}
			for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
				flows = append(flows, flow{c, o, kind, c.packetsFrom(o.name, kind)})
			}
		}
	}
	for _, f := range flows {
		waitFor(t, long, f.c.name+" receiving "+f.kind.String()+" from "+f.o.name, func() bool {
			return f.c.packetsFrom(f.o.name, f.kind) >= f.base+atLeast
		})
	}
}

func joinAndPublish(t *testing.T, r *Room, names ...string) []*client {
	t.Helper()
	var cs []*client
	for _, n := range names {
		c := newClient(t, n, clientOpts{})
		pub := c.addTracks()
		c.join(r, JoinOptions{})
		waitFor(t, long, n+" connected", func() bool {
			return c.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
		})
		c.send(pub)
		cs = append(cs, c)
	}
	return cs
}

// Three participants each publish Opus and VP8 and receive the other two; the SFU tells each
// which mid carries whose track, names the active speaker, and uses its one media port.
func TestThreeParticipants(t *testing.T) {
	s := newTestSFU(t, nil)
	r, err := s.Room("council")
	if err != nil {
		t.Fatal(err)
	}
	cs := joinAndPublish(t, r, "anna", "bruno", "carla")
	cs[1].level.Store(20) // bruno talks, the others are silent
	receivesAll(t, cs, 25)

	for _, c := range cs {
		c.mu.Lock()
		byPub := map[string]int{}
		for mid, ti := range c.added {
			if ti.Mid != mid || ti.PublisherID == c.name {
				t.Errorf("%s: bad track info %+v", c.name, ti)
			}
			byPub[ti.PublisherID]++
		}
		c.mu.Unlock()
		for _, o := range cs {
			if o != c && byPub[o.name] != 2 {
				t.Errorf("%s: %d tracks announced from %s, want 2", c.name, byPub[o.name], o.name)
			}
		}
		waitFor(t, long, c.name+" hearing bruno as speaker", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.speaker == "bruno"
		})
		waitFor(t, long, c.name+" stats with a candidate pair, 2 tracks sent and 4 received", func() bool {
			st := c.lastStats()
			return st.Local.Port != 0 && len(st.Published) == 2 && len(st.Received) == 4
		})
		st := c.lastStats()
		if st.Local.Port != s.Port() || st.Local.Protocol != "udp" {
			t.Errorf("%s: server side of the pair is %+v, want udp port %d", c.name, st.Local, s.Port())
		}
		if st.Estimate < minBitrate {
			t.Errorf("%s: bandwidth estimate %d: estimator not attached", c.name, st.Estimate)
		}
		for _, ps := range st.Published {
			if ps.LastPacket.IsZero() || time.Since(ps.LastPacket) > time.Minute {
				t.Errorf("%s: published %s last packet at %v", c.name, ps.TrackID, ps.LastPacket)
			}
		}
	}
}

// A participant who leaves, rejoins, and then drops without a word does not disturb the others.
func TestLeaveRejoinAndAbruptClose(t *testing.T) {
	s := newTestSFU(t, nil)
	r, _ := s.Room("r")
	cs := joinAndPublish(t, r, "a", "b", "c")
	a, b, c := cs[0], cs[1], cs[2]
	receivesAll(t, cs, 10)

	// c leaves properly: a and b are told and keep receiving each other.
	if err := c.p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*client{a, b} {
		waitFor(t, long, x.name+" told that c's tracks are gone", func() bool {
			x.mu.Lock()
			defer x.mu.Unlock()
			n := 0
			for _, ti := range x.removed {
				if ti.PublisherID == "c" {
					n++
				}
			}
			return n == 2
		})
	}
	c.close()
	receivesAll(t, []*client{a, b}, 25)

	// c comes back with a new connection and the same id.
	c2 := joinAndPublish(t, r, "c")[0]
	receivesAll(t, []*client{a, b, c2}, 25)

	// c2 disappears without signalling: its connection just closes.
	c2.close()
	waitFor(t, long, "the SFU to drop c", func() bool { return r.Participant("c") == nil })
	receivesAll(t, []*client{a, b}, 25)
	if got := len(r.Participants()); got != 2 {
		t.Errorf("%d participants left, want 2", got)
	}
}

// A moderator mute stops forwarding at the server; after unmute the stream goes on without a
// sequence gap at the subscriber.
func TestMute(t *testing.T) {
	s := newTestSFU(t, nil)
	r, _ := s.Room("r")
	cs := joinAndPublish(t, r, "a", "b")
	a, b := cs[0], cs[1]
	receivesAll(t, cs, 10)

	if err := a.p.SetMuted(webrtc.RTPCodecTypeAudio, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // let packets in flight arrive
	muted := b.packetsFrom("a", webrtc.RTPCodecTypeAudio)
	video := b.packetsFrom("a", webrtc.RTPCodecTypeVideo)
	time.Sleep(time.Second)
	if got := b.packetsFrom("a", webrtc.RTPCodecTypeAudio); got != muted {
		t.Errorf("b received %d audio packets from a while muted", got-muted)
	}
	if got := b.packetsFrom("a", webrtc.RTPCodecTypeVideo); got <= video {
		t.Errorf("video stopped too while only audio was muted")
	}
	if err := a.p.SetMuted(webrtc.RTPCodecTypeAudio, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, long, "audio after unmute", func() bool { return b.packetsFrom("a", webrtc.RTPCodecTypeAudio) > muted+25 })
	assertContiguous(t, b.received("a", webrtc.RTPCodecTypeAudio))
}

// assertContiguous checks that the subscriber saw no hole in the sequence numbers.
func assertContiguous(t *testing.T, r *recv) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[uint16]bool{}
	for _, s := range r.seqs {
		seen[s] = true
	}
	first := r.seqs[0]
	for i := range len(seen) {
		if !seen[first+uint16(i)] {
			t.Fatalf("sequence gap: %d missing after %d packets starting at %d", first+uint16(i), len(seen), first)
		}
	}
}
