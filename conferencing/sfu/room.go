package sfu

import (
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
)

// Active speaker detection from RFC 6464 audio levels (0 loudest, 127 silence, in -dBov).
const (
	speakerInterval = 300 * time.Millisecond
	// speakerLoudness: mean (127 - level) a track needs over a window to count as speaking,
	// i.e. louder than -60 dBov on average.
	speakerLoudness = 127 - 60
	speakerWindows  = 2 // consecutive windows a new speaker must win
)

// Room is a set of participants who receive each other's tracks.
type Room struct {
	id  string
	s   *SFU
	log *slog.Logger

	mu      sync.Mutex
	parts   map[string]*Participant
	tracks  map[trackKey]*upTrack
	speaker string
	closed  bool
	rec     *recording // nil unless recording

	quit chan struct{}
	done chan struct{}
}

func newRoom(s *SFU, id string) *Room {
	r := &Room{
		id: id, s: s, log: s.log.With("room", id),
		parts: map[string]*Participant{}, tracks: map[trackKey]*upTrack{},
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	go r.run()
	return r
}

// ID is the room id given to SFU.Room.
func (r *Room) ID() string { return r.id }

// Join adds a participant; it receives every track already published (its Events learn of them
// after its first offer is answered). The id must be unique in the room.
func (r *Room) Join(id string, ev Events, opts JoinOptions) (*Participant, error) {
	if err := r.check(id); err != nil {
		return nil, err
	}
	p, err := newParticipant(r, id, ev, opts)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if err := r.checkLocked(id); err != nil {
		r.mu.Unlock()
		_ = p.Close()
		return nil, err
	}
	r.parts[id] = p
	tracks := make([]*upTrack, 0, len(r.tracks))
	for _, u := range r.tracks {
		tracks = append(tracks, u)
	}
	speaker := r.speaker
	r.mu.Unlock()
	for _, u := range tracks {
		p.post(func() { p.subscribe(u) })
	}
	if speaker != "" {
		p.ev.push(func(e Events) { e.OnSpeaker(speaker) })
	}
	r.log.Info("participant joined", "participant", id)
	return p, nil
}

func (r *Room) check(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkLocked(id)
}

func (r *Room) checkLocked(id string) error {
	if r.closed {
		return errClosed
	}
	if _, ok := r.parts[id]; ok {
		return rocca.Errorf(rocca.ECONFLICT, "participant %q is already in the room", id)
	}
	return nil
}

// Participant returns the participant with this id, or nil.
func (r *Room) Participant(id string) *Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.parts[id]
}

// Participants lists the ids of the participants.
func (r *Room) Participants() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.parts))
	for id := range r.parts {
		ids = append(ids, id)
	}
	return ids
}

// Close disconnects every participant and forgets the room. It returns once no more events will
// be delivered, so it must not be called from an Events method (Participant.Close may be).
func (r *Room) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		return
	}
	r.closed = true
	parts := make([]*Participant, 0, len(r.parts))
	for _, p := range r.parts {
		parts = append(parts, p)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(func() {
			_ = p.Close()
			<-p.ev.done
		})
	}
	wg.Wait()
	r.stopRecordingOnClose()
	close(r.quit)
	<-r.done
	r.s.removeRoom(r)
	r.log.Info("room closed")
}

// track returns a published track, or nil.
func (r *Room) track(k trackKey) *upTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tracks[k]
}

// publish offers a new track of a participant to all the others.
func (r *Room) publish(u *upTrack) {
	r.mu.Lock()
	pub := r.parts[u.pubID]
	if pub == nil {
		r.mu.Unlock()
		return
	}
	key := trackKey{u.pubID, u.id}
	old := r.tracks[key]
	r.tracks[key] = u
	r.recordPublishLocked(old, u)
	others := r.othersLocked(u.pubID)
	r.mu.Unlock()
	for _, p := range others {
		if old != nil {
			p.post(func() { p.unsubscribe(old) })
		}
		p.post(func() { p.subscribe(u) })
	}
}

// unpublish withdraws a track from all the others.
func (r *Room) unpublish(u *upTrack) {
	r.mu.Lock()
	key := trackKey{u.pubID, u.id}
	if r.tracks[key] == u {
		delete(r.tracks, key)
	}
	u.stopRecorder()
	others := r.othersLocked(u.pubID)
	r.mu.Unlock()
	for _, p := range others {
		p.post(func() { p.unsubscribe(u) })
	}
}

// leave removes p and withdraws its tracks.
func (r *Room) leave(p *Participant) {
	r.mu.Lock()
	if r.parts[p.id] != p {
		r.mu.Unlock()
		return
	}
	delete(r.parts, p.id)
	var gone []*upTrack
	for k, u := range r.tracks {
		if k.pub == p.id {
			gone = append(gone, u)
			delete(r.tracks, k)
			u.stopRecorder()
		}
	}
	others := r.othersLocked(p.id)
	speakerGone := r.speaker == p.id
	if speakerGone {
		r.speaker = ""
	}
	r.mu.Unlock()
	for _, o := range others {
		for _, u := range gone {
			o.post(func() { o.unsubscribe(u) })
		}
		if speakerGone {
			o.ev.push(func(e Events) { e.OnSpeaker("") })
		}
	}
	r.log.Info("participant left", "participant", p.id)
}

func (r *Room) othersLocked(id string) []*Participant {
	ps := make([]*Participant, 0, len(r.parts))
	for pid, p := range r.parts {
		if pid != id {
			ps = append(ps, p)
		}
	}
	return ps
}

func (r *Room) run() {
	defer close(r.done)
	t := time.NewTicker(speakerInterval)
	defer t.Stop()
	var candidate string
	var wins int
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
			candidate, wins = r.detectSpeaker(candidate, wins)
		}
	}
}

// detectSpeaker picks the loudest audio track of the last window; a new speaker takes over after
// winning speakerWindows windows in a row, and stays until somebody else does.
func (r *Room) detectSpeaker(candidate string, wins int) (string, int) {
	r.mu.Lock()
	loudest, best := "", uint64(0)
	for _, u := range r.tracks {
		if u.kind != webrtc.RTPCodecTypeAudio {
			continue
		}
		sum, n := u.levelSum.Swap(0), u.levelN.Swap(0)
		if n == 0 || u.muted.Load() {
			continue
		}
		if mean := sum / n; mean >= speakerLoudness && mean > best {
			loudest, best = u.pubID, mean
		}
	}
	current := r.speaker
	if loudest == "" || loudest == current {
		r.mu.Unlock()
		return "", 0
	}
	if loudest == candidate {
		wins++
	} else {
		candidate, wins = loudest, 1
	}
	if wins < speakerWindows {
		r.mu.Unlock()
		return candidate, wins
	}
	r.speaker = loudest
	parts := r.othersLocked("")
	r.mu.Unlock()
	for _, p := range parts {
		p.ev.push(func(e Events) { e.OnSpeaker(loudest) })
	}
	return "", 0
}
