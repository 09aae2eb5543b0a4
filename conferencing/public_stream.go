package conferencing

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/sfu"
)

// The public stream: citizens watch and listen to a public council session from the page
// /pubblico/{stream} without signing in (public_show.go, public_join.go, public_ws.go). They are
// receive-only SFU participants ("viewers") of the meeting's room, kept apart from its members:
// nobody lists them, they get no chat, no participant list and no council state, and they may send
// nothing but the media negotiation. Members see only how many they are. Viewers have RolePublic's
// permissions (none) but no conf_participants row: citizens reloading the page leave nothing behind.
//
// The stream is a switch of the live room, off by default: the chair (through the council
// session) or the lead's code turns it on with setPublicStream(true). Turning it off — the session
// becomes closed (seduta riservata) — tells every viewer why and disconnects it from the SFU at
// once, and refuses new viewers until it is on again. When the room closes (everybody left, the
// meeting ended, the server stops) the viewers go too; their page keeps trying and comes back by
// itself when the stream is live again.

// publicCountDelay batches viewer-count updates to members: 200 citizens arriving in a minute
// make a few messages, not 200.
const publicCountDelay = time.Second

// publicState is the room's public stream, guarded by room.mu.
type publicState struct {
	on       bool
	reserved bool               // switched off explicitly: the session is closed to the public
	viewers  map[string]*viewer // by viewer id
	pending  *time.Timer        // a viewer-count update to members is scheduled
}

// viewer is one citizen's connection to the public stream. Fields below mu are guarded by room.mu.
type viewer struct {
	r     *room
	c     *conn
	id    string // also the SFU participant id; never a participant id ("v" + 16 characters)
	since time.Time

	sp      *sfu.Participant
	ready   bool   // "joined" was sent
	speaker string // active speaker announced before "joined"
}

// Reasons of the "ended" message to viewers (docs/signalling.md, public stream).
const (
	endClosedSession = "closed_session" // the session became closed (seduta riservata)
	endNotLive       = "not_live"       // the room closed: nobody is connected any more
)

// Messages to viewers.
type viewerJoinedMsg struct {
	head
	Viewer     string      `json:"viewer"`
	Title      string      `json:"title"`
	Speaker    string      `json:"speaker,omitempty"`
	ICEServers []ICEServer `json:"ice_servers"`
}

type viewerTrackMsg struct {
	trackMsg
	Name string `json:"name"` // the publisher's name, for the tile
}

type viewerEndedMsg struct {
	head
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// publicMsg tells members whether the stream is live and how many people watch it.
type publicMsg struct {
	head
	Live    bool `json:"live"`
	Viewers int  `json:"viewers"`
}

// PublicStreamID returns the public stream id of the meeting with this public id, creating it the
// first time. The id makes the link /pubblico/{id}; it does not reveal the meeting id.
func (s *Service) PublicStreamID(ctx context.Context, meetingPublicID string) (string, error) {
	m, err := meetingByPublicID(ctx, s.db, meetingPublicID)
	if err != nil {
		return "", err
	}
	for range 3 { // a second try only after an id clash or a concurrent creation
		id, err := streamIDOf(ctx, s.db, m.ID)
		if err != nil || id != "" {
			return id, err
		}
		if err := insertStream(ctx, s.db, m.ID, randomID(16), s.now()); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("public stream of %s: no id after three tries", meetingPublicID)
}

// PublicStreamLink is the address of the meeting's public page, to give to citizens.
func (s *Service) PublicStreamLink(ctx context.Context, meetingPublicID string) (string, error) {
	id, err := s.PublicStreamID(ctx, meetingPublicID)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(s.cfg.PublicURL, "/") + "/pubblico/" + id, nil
}

// SetPublicStream turns the public stream of a live meeting on or off (see setPublicStream). A
// meeting nobody is connected to has no stream to switch.
func (s *Service) SetPublicStream(ctx context.Context, meetingPublicID string, on bool) error {
	m, err := meetingByPublicID(ctx, s.db, meetingPublicID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	r := s.rooms[m.ID]
	s.mu.Unlock()
	if r == nil {
		return rocca.Localized(rocca.ECONFLICT, "conf.error.public_no_room", "nobody is connected to the meeting")
	}
	r.setPublicStream(on)
	return nil
}

// setPublicStream switches the public stream. Off cuts every viewer at once: each is sent
// {"type":"ended","reason":"closed_session"} and its connection and media are closed before this
// returns. It reports how many viewers were cut, for the record. Call it without holding r.mu and
// not from an sfu.Events method (it waits for the viewers' SFU participants to close).
func (r *room) setPublicStream(on bool) int {
	r.mu.Lock()
	changed := r.public.on != on
	r.public.on, r.public.reserved = on, !on
	var cut []*viewer
	if !on {
		cut = slices.Collect(maps.Values(r.public.viewers))
		clear(r.public.viewers)
	}
	r.mu.Unlock()
	r.cutViewers(cut, endClosedSession)
	if changed {
		r.sendPublicCount()
	}
	r.log.Info("public stream switched", "on", on, "viewers_cut", len(cut))
	return len(cut)
}

// endPublic disconnects every viewer because the room closes. Called by closeIfEmpty.
func (r *room) endPublic() {
	r.mu.Lock()
	cut := slices.Collect(maps.Values(r.public.viewers))
	clear(r.public.viewers)
	r.public.on = false
	if r.public.pending != nil {
		r.public.pending.Stop()
		r.public.pending = nil
	}
	r.mu.Unlock()
	r.cutViewers(cut, endNotLive)
}

// cutViewers tells each viewer why the stream stopped and closes its connection, then closes
// their media together: the goodbyes go out first, so no viewer waits for another's teardown.
func (r *room) cutViewers(vs []*viewer, reason string) {
	for _, v := range vs {
		v.c.sendJSON(v.endedMsg(reason))
		v.c.close(closeNormal, reason)
	}
	var wg sync.WaitGroup
	for _, v := range vs {
		wg.Go(v.stop)
	}
	wg.Wait()
}

func (v *viewer) endedMsg(reason string) viewerEndedMsg {
	msg := viewerEndedMsg{head: hd("ended"), Reason: reason}
	if reason == endClosedSession {
		msg.Message = v.c.cat.T(v.c.lang, "conf.public.closed")
	} else {
		msg.Message = v.c.cat.T(v.c.lang, "conf.public.not_live")
	}
	return msg
}

// stop ends the viewer's media.
func (v *viewer) stop() {
	v.r.mu.Lock()
	sp := v.sp
	v.sp = nil
	v.r.mu.Unlock()
	if sp != nil {
		_ = sp.Close()
	}
}

// publicStatus says whether a new viewer may watch meeting m now: nil, or the reason why not.
func (s *Service) publicStatus(m *Meeting) error {
	if m.Ended() {
		return errPublicEnded()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return rocca.Localized(rocca.EUNAVAILABLE, "conf.error.restarting", "the server is restarting")
	}
	r := s.rooms[m.ID]
	if r == nil {
		return errPublicNotLive()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.admitViewerLocked("")
}

// admitViewerLocked checks the switch and the cap; replacing (a reconnecting viewer) does not
// count against the cap.
func (r *room) admitViewerLocked(replacing string) error {
	switch {
	case r.closed:
		return errPublicNotLive()
	case !r.public.on && r.public.reserved:
		return errPublicClosed()
	case !r.public.on:
		return errPublicNotLive()
	}
	n := len(r.public.viewers)
	if _, ok := r.public.viewers[replacing]; ok {
		n--
	}
	if n >= r.s.cfg.PublicViewers {
		return rocca.Localized(rocca.ECONFLICT, "conf.error.public_full", "too many viewers", r.s.cfg.PublicViewers)
	}
	return nil
}

// enterViewer connects viewer id of meeting m to the live room's SFU, receive-only. An older
// connection with the same id (a reload, a reconnect not yet noticed) is replaced.
func (s *Service) enterViewer(m *Meeting, id string, c *conn) (*viewer, error) {
	if m.Ended() {
		return nil, errPublicEnded()
	}
	v := &viewer{c: c, id: id, since: s.now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "conf.error.restarting", "the server is restarting")
	}
	r := s.rooms[m.ID]
	if r == nil {
		s.mu.Unlock()
		return nil, errPublicNotLive()
	}
	v.r = r
	r.mu.Lock()
	if err := r.admitViewerLocked(id); err != nil {
		r.mu.Unlock()
		s.mu.Unlock()
		return nil, err
	}
	if r.public.viewers == nil {
		r.public.viewers = map[string]*viewer{}
	}
	old := r.public.viewers[id]
	r.public.viewers[id] = v
	r.mu.Unlock()
	s.mu.Unlock()

	if old != nil {
		old.c.sendJSON(byMsg{head: hd("replaced")})
		old.c.close(closeNormal, "replaced")
		old.stop()
	}
	sp, err := r.media.Join(id, v, sfu.JoinOptions{NoPublish: true})
	if rocca.ErrorCodeOf(err) == rocca.ECONFLICT {
		if stale := r.media.Participant(id); stale != nil {
			_ = stale.Close()
		}
		sp, err = r.media.Join(id, v, sfu.JoinOptions{NoPublish: true})
	}
	if err != nil {
		r.leaveViewer(v)
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "conf.error.media", "cannot join the media server: "+err.Error())
	}
	servers := s.iceServers(id)
	r.mu.Lock()
	if r.public.viewers[id] != v {
		// Cut (stream switched off, room closed) or replaced while joining the SFU.
		r.mu.Unlock()
		_ = sp.Close()
		return nil, errPublicClosed()
	}
	v.sp, v.ready = sp, true
	// Queued under the lock that makes v visible to the SFU events: always its first message.
	c.sendJSON(viewerJoinedMsg{head: hd("joined"), Viewer: id, Title: r.title, Speaker: v.speaker, ICEServers: servers})
	r.mu.Unlock()
	r.schedulePublicCount()
	r.log.Info("public viewer joined", "viewer", id)
	return v, nil
}

// leaveViewer forgets v (its connection ended) and closes its media.
func (r *room) leaveViewer(v *viewer) {
	r.mu.Lock()
	was := r.public.viewers[v.id] == v
	if was {
		delete(r.public.viewers, v.id)
	}
	r.mu.Unlock()
	v.stop()
	if was {
		r.schedulePublicCount()
	}
}

// viewerCount is the number of people watching the public stream.
func (r *room) viewerCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.public.viewers)
}

// schedulePublicCount sends members the viewer count soon, once for a burst of changes.
func (r *room) schedulePublicCount() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.public.pending != nil || r.closed {
		return
	}
	r.public.pending = time.AfterFunc(publicCountDelay, func() {
		r.mu.Lock()
		r.public.pending = nil
		r.mu.Unlock()
		r.sendPublicCount()
	})
}

// sendPublicCount tells every member whether the stream is live and how many watch.
func (r *room) sendPublicCount() {
	r.mu.Lock()
	b, _ := json.Marshal(publicMsg{head: hd("public"), Live: r.public.on, Viewers: len(r.public.viewers)})
	to := r.membersLocked(0)
	r.mu.Unlock()
	for _, m := range to {
		m.c.sendRaw(b)
	}
}

// sendPublicTo tells a member who just joined about the stream, if it was ever switched on or off.
func (r *room) sendPublicTo(mem *member) {
	r.mu.Lock()
	touched := r.public.on || r.public.reserved
	msg := publicMsg{head: hd("public"), Live: r.public.on, Viewers: len(r.public.viewers)}
	r.mu.Unlock()
	if touched {
		mem.c.sendJSON(msg)
	}
}

func errPublicNotLive() error {
	return rocca.Localized(rocca.ECONFLICT, "conf.error.public_not_live", "the public stream is not live")
}

func errPublicClosed() error {
	return rocca.Localized(rocca.EFORBIDDEN, "conf.error.public_closed", "the session is now closed to the public")
}

func errPublicEnded() error {
	return rocca.Localized(rocca.EGONE, "conf.error.public_ended", "the session has ended")
}

// viewer implements sfu.Events: what the SFU says about a viewer's connection becomes signalling
// messages on it. Like member's, these only queue.

func (v *viewer) OnLocalDescription(d webrtc.SessionDescription) {
	v.c.sendJSON(sdpMsg{head: hd(d.Type.String()), SDP: d.SDP})
}

func (v *viewer) OnICECandidate(c webrtc.ICECandidateInit) {
	v.c.sendJSON(candidateMsg{head: hd("candidate"), Candidate: Candidate{
		Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}})
}

func (v *viewer) OnTrackAdded(t sfu.TrackInfo)   { v.c.sendJSON(v.trackMsg("track_added", t)) }
func (v *viewer) OnTrackRemoved(t sfu.TrackInfo) { v.c.sendJSON(v.trackMsg("track_removed", t)) }

// trackMsg describes t with its publisher's name and declared source (camera by default).
func (v *viewer) trackMsg(typ string, t sfu.TrackInfo) viewerTrackMsg {
	src := SourceCamera
	if t.Kind == "audio" {
		src = SourceMicrophone
	}
	var name string
	v.r.mu.Lock()
	if pub := v.r.members[t.PublisherID]; pub != nil {
		name = pub.name
		if s, ok := pub.known[t.TrackID]; ok {
			src = s
		}
	}
	v.r.mu.Unlock()
	return viewerTrackMsg{Name: name, trackMsg: trackMsg{head: hd(typ), Publisher: t.PublisherID, Track: t.TrackID,
		Mid: t.Mid, Stream: t.StreamID, Kind: t.Kind, Source: src, Simulcast: t.Simulcast}}
}

func (v *viewer) OnSpeaker(id string) {
	v.r.mu.Lock()
	defer v.r.mu.Unlock()
	if !v.ready {
		v.speaker = id
		return
	}
	v.c.sendJSON(speakerMsg{head: hd("speaker"), Participant: id})
}

func (v *viewer) OnStats(sfu.Stats) {}

func (v *viewer) OnState(s webrtc.PeerConnectionState) {
	if s == webrtc.PeerConnectionStateFailed {
		v.r.log.Info("public viewer's media connection failed", "viewer", v.id)
	}
}

var _ sfu.Events = (*viewer)(nil)
