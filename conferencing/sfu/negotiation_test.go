package sfu

import (
	"errors"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
)

// The SFU is the impolite peer: a client offer that crosses an SFU offer is refused with a
// conflict; the client rolls back, answers the SFU's offer, and media flows.
func TestGlareRefused(t *testing.T) {
	s := newTestSFU(t, nil)
	r, _ := s.Room("r")
	sub := newClient(t, "sub", clientOpts{})
	sub.held = make(chan webrtc.SessionDescription, 4)
	sub.join(r, JoinOptions{})
	waitFor(t, long, "sub connected", func() bool { return sub.pc.ConnectionState() == webrtc.PeerConnectionStateConnected })
	pub := joinAndPublish(t, r, "pub")[0]
	serverOffer := <-sub.held // the SFU offers pub's tracks; sub does not answer yet

	// A browser would set this offer locally and roll it back after the refusal; Pion cannot roll
	// back a local offer, so the test only creates it.
	offer, err := sub.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = sub.p.HandleOffer(sub.ctx, offer)
	var re *rocca.Error
	if !errors.As(err, &re) || re.Code != rocca.ECONFLICT {
		t.Fatalf("crossing offer: %v, want a conflict", err)
	}
	sub.answer(serverOffer)
	go func() { // later offers are answered as usual
		for d := range sub.held {
			sub.answer(d)
		}
	}()
	waitFor(t, long, "sub receiving pub", func() bool {
		return sub.packetsFrom("pub", webrtc.RTPCodecTypeVideo) > 10 && sub.packetsFrom("pub", webrtc.RTPCodecTypeAudio) > 10
	})
	_ = pub
}

// RestartICE makes the SFU offer new ICE credentials; the connection goes on and so does media.
func TestRestartICE(t *testing.T) {
	s := newTestSFU(t, nil)
	r, _ := s.Room("r")
	cs := joinAndPublish(t, r, "a", "b")
	receivesAll(t, cs, 10)
	ufrag := func(c *client) string {
		sdp := c.pc.RemoteDescription().SDP
		i := strings.Index(sdp, "a=ice-ufrag:")
		return strings.Fields(sdp[i+len("a=ice-ufrag:"):])[0]
	}
	before := ufrag(cs[1])
	if err := cs[1].p.RestartICE(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, long, "new ICE credentials at b", func() bool {
		return cs[1].pc.SignalingState() == webrtc.SignalingStateStable && ufrag(cs[1]) != before
	})
	receivesAll(t, cs, 25)
}
