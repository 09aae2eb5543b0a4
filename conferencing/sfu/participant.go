package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
)

// tickInterval paces layer allocation and keyframe retries; stats go out every statsTicks ticks.
const (
	tickInterval = 500 * time.Millisecond
	statsTicks   = 4
)

// JoinOptions are the per-participant choices of the signalling layer.
type JoinOptions struct {
	// NoPublish makes the participant receive-only (public viewers): media it sends is dropped.
	NoPublish bool
}

// Participant is one peer connection in a room. Its methods may be called from any goroutine;
// they hand the work to the participant's loop.
type Participant struct {
	id   string
	room *Room
	log  *slog.Logger
	opts JoinOptions
	pc   *webrtc.PeerConnection
	bwe  cc.BandwidthEstimator
	ev   *eventQueue
	mb   *mailbox

	quit     chan struct{}
	quitOnce sync.Once
	done     chan struct{}
	readers  sync.WaitGroup // RTP and RTCP reader goroutines

	// Owned by the loop.
	published  map[*webrtc.RTPReceiver]*upTrack
	subs       map[trackKey]*downTrack
	optOut     map[trackKey]bool
	announce   []*downTrack // added, not yet told to the client
	deferred   []*upTrack   // to subscribe once the client's first offer is answered
	pendingICE []webrtc.ICECandidateInit
	answered   bool // the client's first offer has been answered
	needOffer  bool
	iceRestart bool
	muted      map[webrtc.RTPCodecType]bool
	mutedTrack map[string]bool // published track ids a moderator stopped (SetTrackMuted)
	maxBitrate int
	ticks      int
	state      webrtc.PeerConnectionState
}

type trackKey struct{ pub, track string }

func newParticipant(r *Room, id string, ev Events, opts JoinOptions) (*Participant, error) {
	pc, bwe, err := r.s.newPeerConnection()
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	p := &Participant{
		id: id, room: r, opts: opts, pc: pc, bwe: bwe,
		log:        r.log.With("participant", id),
		ev:         newEventQueue(ev),
		mb:         newMailbox(),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		published:  map[*webrtc.RTPReceiver]*upTrack{},
		subs:       map[trackKey]*downTrack{},
		optOut:     map[trackKey]bool{},
		muted:      map[webrtc.RTPCodecType]bool{},
		mutedTrack: map[string]bool{},
		state:      webrtc.PeerConnectionStateNew,
	}
	// Pion callbacks only post commands; the loop does the work.
	pc.OnTrack(func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
		p.post(func() { p.onTrack(tr, rcv) })
	})
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		p.post(func() { p.ev.push(func(e Events) { e.OnICECandidate(init) }) })
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.post(func() { p.onState(s) })
	})
	go p.run()
	return p, nil
}

// ID is the participant id given to Join.
func (p *Participant) ID() string { return p.id }

// Done is closed when the participant has left and its resources are released.
func (p *Participant) Done() <-chan struct{} { return p.done }

func (p *Participant) run() {
	defer close(p.done)
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			p.teardown()
			return
		case <-p.mb.ready:
			for _, f := range p.mb.take() {
				f()
			}
			p.negotiate()
		case <-t.C:
			p.tick()
		}
	}
}

// post queues f for the loop; it reports false after the participant closed.
func (p *Participant) post(f func()) bool { return p.mb.push(f) }

// call runs f in the loop and waits for its result.
func (p *Participant) call(ctx context.Context, f func() error) error {
	res := make(chan error, 1)
	if !p.post(func() { res <- f() }) {
		return errClosed
	}
	select {
	case err := <-res:
		return err
	case <-p.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close leaves the room: the others stop receiving this participant's tracks. It waits until the
// connection is closed, not for the delivery of the last events, so an Events method may call it.
func (p *Participant) Close() error {
	p.quitOnce.Do(func() { close(p.quit) })
	<-p.done
	return nil
}

func (p *Participant) closeAsync() { p.quitOnce.Do(func() { close(p.quit) }) }

func (p *Participant) teardown() {
	p.mb.close()
	p.room.leave(p)
	for _, d := range p.subs {
		d.up.removeDown(d)
	}
	if err := p.pc.Close(); err != nil {
		p.log.Debug("close peer connection", "err", err)
	}
	p.readers.Wait()
	if p.state != webrtc.PeerConnectionStateClosed {
		p.ev.push(func(e Events) { e.OnState(webrtc.PeerConnectionStateClosed) })
	}
	p.ev.close()
	p.log.Debug("participant left")
}

// HandleOffer applies an offer from the client; the answer arrives via OnLocalDescription. An
// offer that crosses one of the SFU's own is refused with a conflict: the client rolls back,
// answers the SFU's offer, and offers again.
func (p *Participant) HandleOffer(ctx context.Context, offer webrtc.SessionDescription) error {
	if offer.Type != webrtc.SDPTypeOffer {
		return rocca.Errorf(rocca.EINVALID, "not an offer: %s", offer.Type)
	}
	return p.call(ctx, func() error {
		if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
			return errGlare
		}
		if err := p.pc.SetRemoteDescription(offer); err != nil {
			return &rocca.Error{Code: rocca.EINVALID, Message: "offer refused", Err: err}
		}
		p.flushICE()
		answer, err := p.pc.CreateAnswer(nil)
		if err != nil {
			return &rocca.Error{Code: rocca.EINVALID, Message: "cannot answer offer", Err: err}
		}
		if err := p.pc.SetLocalDescription(answer); err != nil {
			return fmt.Errorf("set local answer: %w", err)
		}
		p.announceTracks()
		p.ev.push(func(e Events) { e.OnLocalDescription(answer) })
		if !p.answered {
			p.answered = true
			// Subscriptions wait for the first offer: Pion would otherwise pair our send-only
			// transceivers with the client's own send-recv media sections.
			for _, u := range p.deferred {
				if p.room.track(trackKey{u.pubID, u.id}) == u {
					p.subscribe(u)
				}
			}
			p.deferred = nil
		}
		return nil
	})
}

// HandleAnswer applies the client's answer to the SFU's last offer.
func (p *Participant) HandleAnswer(ctx context.Context, answer webrtc.SessionDescription) error {
	if answer.Type != webrtc.SDPTypeAnswer {
		return rocca.Errorf(rocca.EINVALID, "not an answer: %s", answer.Type)
	}
	return p.call(ctx, func() error {
		if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
			return rocca.Errorf(rocca.ECONFLICT, "no offer is waiting for an answer")
		}
		if err := p.pc.SetRemoteDescription(answer); err != nil {
			return &rocca.Error{Code: rocca.EINVALID, Message: "answer refused", Err: err}
		}
		p.flushICE()
		return nil
	})
}

// AddICECandidate adds a candidate from the client (trickle ICE). Candidates that arrive before
// the first offer are kept until it is applied.
func (p *Participant) AddICECandidate(ctx context.Context, c webrtc.ICECandidateInit) error {
	return p.call(ctx, func() error {
		if p.pc.RemoteDescription() == nil {
			if len(p.pendingICE) >= 100 {
				return rocca.Errorf(rocca.ETOOLARGE, "too many early ICE candidates")
			}
			p.pendingICE = append(p.pendingICE, c)
			return nil
		}
		if err := p.pc.AddICECandidate(c); err != nil {
			return &rocca.Error{Code: rocca.EINVALID, Message: "ICE candidate refused", Err: err}
		}
		return nil
	})
}

func (p *Participant) flushICE() {
	for _, c := range p.pendingICE {
		if err := p.pc.AddICECandidate(c); err != nil {
			p.log.Debug("early ICE candidate refused", "err", err)
		}
	}
	p.pendingICE = nil
}

// RestartICE makes the SFU send an offer with new ICE credentials.
func (p *Participant) RestartICE() error {
	if !p.post(func() { p.iceRestart, p.needOffer = true, true }) {
		return errClosed
	}
	return nil
}

// SetMaxBitrate caps what this participant receives, in bit/s (0 removes the cap); the SFU picks
// lower simulcast layers to fit.
func (p *Participant) SetMaxBitrate(bps int) error {
	if !p.post(func() { p.maxBitrate = max(bps, 0); p.allocate() }) {
		return errClosed
	}
	return nil
}

// SetPreferredLayer caps the simulcast layer sent to this participant for one track, by rid
// ("q", "h", "f"; "" removes the cap): the client asks for less when it shows the video small.
func (p *Participant) SetPreferredLayer(publisherID, trackID, rid string) error {
	key := trackKey{publisherID, trackID}
	if !p.post(func() {
		if d := p.subs[key]; d != nil {
			d.prefRID = rid
			p.allocate()
		}
	}) {
		return errClosed
	}
	return nil
}

// Subscribe starts receiving a track again after Unsubscribe. Tracks are subscribed by default.
func (p *Participant) Subscribe(publisherID, trackID string) error {
	key := trackKey{publisherID, trackID}
	if !p.post(func() {
		delete(p.optOut, key)
		if u := p.room.track(key); u != nil {
			p.subscribe(u)
		}
	}) {
		return errClosed
	}
	return nil
}

// Unsubscribe stops receiving a track (the client does not want it, e.g. audio-only mode).
func (p *Participant) Unsubscribe(publisherID, trackID string) error {
	key := trackKey{publisherID, trackID}
	if !p.post(func() {
		p.optOut[key] = true
		if d := p.subs[key]; d != nil {
			p.unsubscribe(d.up)
		}
	}) {
		return errClosed
	}
	return nil
}

// SetMuted stops (or resumes) forwarding this participant's tracks of one kind to everybody: the
// moderator's mute, enforced by the server whatever the client does.
func (p *Participant) SetMuted(kind webrtc.RTPCodecType, muted bool) error {
	return p.remute(func() { p.muted[kind] = muted }, func(u *upTrack) bool { return u.kind == kind })
}

// SetTrackMuted stops (or resumes) forwarding one published track to everybody, whatever the
// client sends: a moderator turning a camera off while the screen share goes on. A kind muted
// with SetMuted stays muted.
func (p *Participant) SetTrackMuted(trackID string, muted bool) error {
	return p.remute(func() {
		if muted {
			p.mutedTrack[trackID] = true
		} else {
			delete(p.mutedTrack, trackID)
		}
	}, func(u *upTrack) bool { return u.id == trackID })
}

// remute changes a moderator's mute in the participant's loop, then applies the result to the
// published tracks it concerns.
func (p *Participant) remute(change func(), concerns func(*upTrack) bool) error {
	if !p.post(func() {
		change()
		for _, u := range p.published {
			if concerns(u) {
				u.setMuted(p.silenced(u))
			}
		}
	}) {
		return errClosed
	}
	return nil
}

// silenced: a moderator stopped the track or its kind.
func (p *Participant) silenced(u *upTrack) bool { return p.muted[u.kind] || p.mutedTrack[u.id] }

func (p *Participant) onState(s webrtc.PeerConnectionState) {
	p.state = s
	p.ev.push(func(e Events) { e.OnState(s) })
	p.log.Debug("connection state", "state", s.String())
	if s == webrtc.PeerConnectionStateClosed {
		p.closeAsync()
	}
}

// onTrack registers a track (or one simulcast layer of it) the client publishes and starts
// reading it.
func (p *Participant) onTrack(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
	if p.opts.NoPublish {
		p.log.Debug("track ignored: participant may not publish", "kind", tr.Kind().String())
		return
	}
	u := p.published[rcv]
	isNew := u == nil
	if isNew {
		u = newUpTrack(p.id, tr, rcv, p.room.s.now, p.writeRTCP)
		if u.id == "" { // no msid: name the track after its transceiver
			for _, t := range p.pc.GetTransceivers() {
				if t.Receiver() == rcv {
					u.id = "mid-" + t.Mid()
				}
			}
		}
		u.setMuted(p.silenced(u))
	}
	l := u.addLayer(tr, layerIndex(tr.RID(), rcv))
	if l == nil {
		p.log.Warn("duplicate simulcast layer ignored", "track", u.id, "rid", tr.RID())
		return
	}
	if isNew {
		p.published[rcv] = u
		p.room.publish(u)
	}
	p.log.Debug("publishing", "track", u.id, "kind", u.kind.String(), "rid", l.rid, "codec", u.codec.MimeType)
	p.readers.Add(2)
	go func() {
		defer p.readers.Done()
		u.read(l)
		p.post(func() { p.layerEnded(rcv, u, l) })
	}()
	go func() {
		defer p.readers.Done()
		// Reading lets the interceptors see the publisher's reports; nothing else is needed.
		buf := make([]byte, rtcpBufferSize)
		for {
			var err error
			if l.rid == "" {
				_, _, err = rcv.Read(buf)
			} else {
				_, _, err = rcv.ReadSimulcast(buf, l.rid)
			}
			if err != nil {
				return
			}
		}
	}()
}

func (p *Participant) writeRTCP(pkts []rtcp.Packet) error { return p.pc.WriteRTCP(pkts) }

func (p *Participant) layerEnded(rcv *webrtc.RTPReceiver, u *upTrack, l *layer) {
	if !u.removeLayer(l) || p.published[rcv] != u {
		return
	}
	delete(p.published, rcv)
	p.room.unpublish(u)
	p.log.Debug("track ended", "track", u.id)
}

// subscribe starts sending u to this participant.
func (p *Participant) subscribe(u *upTrack) {
	key := trackKey{u.pubID, u.id}
	if p.subs[key] != nil || p.optOut[key] || u.pubID == p.id {
		return
	}
	if !p.answered {
		if !slices.Contains(p.deferred, u) {
			p.deferred = append(p.deferred, u)
		}
		return
	}
	d := newDownTrack(u, p.id)
	tr, err := p.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		p.log.Warn("cannot add track", "publisher", u.pubID, "track", u.id, "err", err)
		return
	}
	d.transceiver = tr
	p.subs[key] = d
	p.announce = append(p.announce, d)
	p.allocate()
	u.addDown(d)
	// Take the sender now: once the transceiver is stopped (an unsubscribe racing this
	// goroutine's start) Sender() gives nil.
	sender := tr.Sender()
	p.readers.Add(1)
	go func() {
		defer p.readers.Done()
		d.readRTCP(sender)
	}()
	p.needOffer = true
}

// unsubscribe stops sending u to this participant.
func (p *Participant) unsubscribe(u *upTrack) {
	p.deferred = slices.DeleteFunc(p.deferred, func(x *upTrack) bool { return x == u })
	key := trackKey{u.pubID, u.id}
	d := p.subs[key]
	if d == nil || d.up != u {
		return
	}
	delete(p.subs, key)
	u.removeDown(d)
	if err := p.pc.RemoveTrack(d.transceiver.Sender()); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
		p.log.Debug("remove track", "err", err)
	}
	announced := true
	for i, a := range p.announce {
		if a == d {
			p.announce = append(p.announce[:i], p.announce[i+1:]...)
			announced = false
			break
		}
	}
	if announced {
		info := d.info()
		p.ev.push(func(e Events) { e.OnTrackRemoved(info) })
	}
	p.needOffer = true
}

// negotiate runs after every batch of commands. It sends the SFU's offer if something changed, the client has made its first offer, and
// no other offer is outstanding.
func (p *Participant) negotiate() {
	if !p.needOffer || !p.answered || p.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	p.needOffer = false
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: p.iceRestart})
	if err != nil {
		p.log.Warn("create offer", "err", err)
		return
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		p.log.Warn("set local offer", "err", err)
		return
	}
	p.iceRestart = false
	p.announceTracks()
	p.ev.push(func(e Events) { e.OnLocalDescription(offer) })
}

// announceTracks tells the client about tracks that now have a mid.
func (p *Participant) announceTracks() {
	rest := p.announce[:0]
	for _, d := range p.announce {
		d.mid = d.transceiver.Mid()
		if d.mid == "" {
			rest = append(rest, d)
			continue
		}
		info := d.info()
		p.ev.push(func(e Events) { e.OnTrackAdded(info) })
	}
	p.announce = rest
}

func (p *Participant) tick() {
	for _, u := range p.published {
		u.flushKeyframes()
	}
	p.allocate()
	now := p.room.s.now()
	for _, d := range p.subs {
		if t := d.target.Load(); d.current.Load() != t {
			d.up.requestKeyframe(int(t)) // rate limited; repeats a request that got lost
		}
		if p.ticks%statsTicks == 0 {
			b := d.bytes.Load()
			if d.lastAt != 0 && now > d.lastAt {
				d.rate = int(int64(b-d.lastBytes) * 8 * int64(time.Second) / (now - d.lastAt))
			}
			d.lastBytes, d.lastAt = b, now
		}
	}
	if p.ticks%statsTicks == 0 {
		p.sendStats()
	}
	p.ticks++
	p.negotiate()
}

var errGlare = rocca.Errorf(rocca.ECONFLICT, "offer crossed the server's offer; answer it first")
