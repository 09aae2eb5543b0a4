package sfu

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Events is how the SFU talks to the signalling layer about one participant. The methods are
// called in order from one goroutine per participant; they may block briefly and may call the
// Participant's methods.
type Events interface {
	// OnLocalDescription carries an answer to the client's offer, or an offer of the SFU's own
	// (tracks added or removed, ICE restart) to be answered with HandleAnswer.
	OnLocalDescription(desc webrtc.SessionDescription)
	// OnICECandidate carries one of the SFU's ICE candidates (trickle ICE).
	OnICECandidate(c webrtc.ICECandidateInit)
	// OnTrackAdded tells that another participant's track is now sent to this one, on the
	// transceiver Mid. It precedes the offer that carries the track.
	OnTrackAdded(t TrackInfo)
	// OnTrackRemoved tells that a track is no longer sent.
	OnTrackRemoved(t TrackInfo)
	// OnSpeaker names the room's active speaker ("" when nobody speaks).
	OnSpeaker(publisherID string)
	// OnStats reports statistics every couple of seconds.
	OnStats(s Stats)
	// OnState reports the connection state. After "failed" the client should restart ICE or
	// rejoin; after "closed" the participant is gone.
	OnState(s webrtc.PeerConnectionState)
}

// NoEvents ignores every event; embed it to implement only some.
type NoEvents struct{}

func (NoEvents) OnLocalDescription(webrtc.SessionDescription) {}
func (NoEvents) OnICECandidate(webrtc.ICECandidateInit)       {}
func (NoEvents) OnTrackAdded(TrackInfo)                       {}
func (NoEvents) OnTrackRemoved(TrackInfo)                     {}
func (NoEvents) OnSpeaker(string)                             {}
func (NoEvents) OnStats(Stats)                                {}
func (NoEvents) OnState(webrtc.PeerConnectionState)           {}

// TrackInfo describes a track sent to a subscriber.
type TrackInfo struct {
	PublisherID string `json:"publisher"`
	TrackID     string `json:"track"` // the publisher's track id; use it with Subscribe, SetPreferredLayer
	Mid         string `json:"mid"`   // transceiver mid on the subscriber's connection
	StreamID    string `json:"stream"`
	Kind        string `json:"kind"` // "audio" or "video"
	Codec       string `json:"codec"`
	Simulcast   bool   `json:"simulcast"`
}

// Stats is a snapshot of one participant's connection.
type Stats struct {
	State     webrtc.PeerConnectionState `json:"state"`
	Local     Candidate                  `json:"local"`      // selected pair, SFU side
	Remote    Candidate                  `json:"remote"`     // selected pair, client side
	Estimate  int                        `json:"estimate"`   // send-side bandwidth estimate, bit/s
	Published []PublishedStats           `json:"published"`  // tracks this participant sends
	Received  []SubscribedStats          `json:"subscribed"` // tracks sent to this participant
}

// Candidate is one end of the selected ICE candidate pair.
type Candidate struct {
	Type     string `json:"type"`     // host, srflx, prflx, relay
	Protocol string `json:"protocol"` // udp, tcp
	Address  string `json:"address"`
	Port     int    `json:"port"`
}

// PublishedStats describes a track the participant publishes.
type PublishedStats struct {
	TrackID     string    `json:"track"`
	Kind        string    `json:"kind"`
	Bitrate     int       `json:"bitrate"` // all layers, bit/s
	Layers      []string  `json:"layers,omitempty"`
	LastPacket  time.Time `json:"last_packet"`
	PacketsLost int64     `json:"packets_lost"`
	Muted       bool      `json:"muted"`
}

// SubscribedStats describes a track sent to the participant.
type SubscribedStats struct {
	PublisherID  string  `json:"publisher"`
	TrackID      string  `json:"track"`
	Kind         string  `json:"kind"`
	Layer        string  `json:"layer,omitempty"` // rid being forwarded
	Bitrate      int     `json:"bitrate"`
	FractionLost float64 `json:"fraction_lost"` // from the client's receiver reports
}

// eventQueue delivers events in order from its own goroutine, so that the participant loop never
// waits on the signalling layer.
type eventQueue struct {
	ev   Events
	mu   sync.Mutex
	q    []func(Events)
	wake chan struct{}
	done chan struct{}
	stop bool
}

func newEventQueue(ev Events) *eventQueue {
	e := &eventQueue{ev: ev, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go e.run()
	return e
}

func (e *eventQueue) push(f func(Events)) {
	e.mu.Lock()
	if e.stop {
		e.mu.Unlock()
		return
	}
	e.q = append(e.q, f)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// close delivers what is queued, then ends the goroutine.
func (e *eventQueue) close() {
	e.mu.Lock()
	e.stop = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *eventQueue) run() {
	defer close(e.done)
	for range e.wake {
		e.mu.Lock()
		q, stop := e.q, e.stop
		e.q = nil
		e.mu.Unlock()
		for _, f := range q {
			f(e.ev)
		}
		if stop {
			e.mu.Lock()
			empty := len(e.q) == 0
			e.mu.Unlock()
			if empty {
				return
			}
		}
	}
}
