package conferencing

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/sfu"
)

const chatHistory = 50 // chat messages a newcomer receives

// room is a live meeting: the people connected to it (in the SFU, or waiting in the lobby) and
// the state that exists only while somebody is there (hands, mutes, chat). It lives from the first
// connection to the last one; what must outlast it (locked, ended, who was admitted or removed) is
// in the database.
type room struct {
	s     *Service
	id    int64
	pub   string // meeting public id = SFU room id
	log   *slog.Logger
	media *sfu.Room

	mu            sync.Mutex
	title         string
	council       bool
	locked        bool
	unmuteAllowed bool
	members       map[string]*member // admitted and connected
	lobby         map[string]*member // waiting for a host
	chat          []chatView
	closed        bool
	public        publicState  // the public stream and its viewers (public_stream.go)
	cl            *councilLive // the council session, from "open" (council_live.go)
	clMu          sync.Mutex   // serialises opening and closing the council session; not under mu
}

// member is one connected participant. Fields below mu are guarded by room.mu.
type member struct {
	r     *room
	c     *conn
	id    string // participant public id, also the SFU participant id
	dbID  int64
	user  int64
	name  string
	since time.Time

	sp      *sfu.Participant // nil in the lobby and while joining
	refresh *time.Timer
	ready   bool   // "joined" was sent: broadcasts include the member from now on
	speaker string // active speaker announced by the SFU before "joined"

	role   Role
	muted  bool
	camera bool
	// cameraStopped: a moderator turned the camera off; it stays off at the server until the
	// member turns it on.
	cameraStopped bool
	hand          bool
	forced        bool
	tracks        map[string]string // what the member publishes now
	known         map[string]string // every track id it ever described, to name tracks as they go
	stats         sfu.Stats
}

// cameraTracks are the ids of the member's camera tracks. The caller holds the room's mu.
func (m *member) cameraTracks() []string {
	var ids []string
	for id, src := range m.tracks {
		if src == SourceCamera {
			ids = append(ids, id)
		}
	}
	return ids
}

// roomFor returns the live room of m, creating it. Callers hold s.mu.
func (s *Service) roomForLocked(m *Meeting) (*room, error) {
	if s.closed {
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "conf.error.restarting", "the server is restarting")
	}
	if r := s.rooms[m.ID]; r != nil {
		return r, nil
	}
	media, err := s.media.Room(m.PublicID)
	if err != nil {
		return nil, err
	}
	r := &room{
		s: s, id: m.ID, pub: m.PublicID, log: s.log.With("meeting", m.PublicID), media: media,
		title: m.Title, council: m.Council, locked: m.Locked, unmuteAllowed: true,
		members: map[string]*member{}, lobby: map[string]*member{},
	}
	s.rooms[m.ID] = r
	return r, nil
}

// liveCount is the number of people connected to meeting id, lobby included.
func (s *Service) liveCount(id int64) int {
	s.mu.Lock()
	r := s.rooms[id]
	s.mu.Unlock()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members) + len(r.lobby)
}

// enter places a verified participant in the live room: in the lobby, or in the SFU. An older
// connection of the same participant (another tab, a reconnect the server has not noticed yet)
// is replaced.
func (s *Service) enter(m *Meeting, p *Participant, c *conn, muted, cameraOff bool) (*member, error) {
	mem := &member{c: c, id: p.PublicID, dbID: p.ID, user: p.UserID, name: p.Name, role: p.Role,
		since: s.now(), muted: muted, camera: !cameraOff, tracks: map[string]string{}, known: map[string]string{}}
	s.mu.Lock()
	r, err := s.roomForLocked(m)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	mem.r = r
	r.mu.Lock()
	old := r.members[mem.id]
	if old == nil {
		old = r.lobby[mem.id]
	}
	delete(r.members, mem.id)
	delete(r.lobby, mem.id)
	if len(r.members)+len(r.lobby) >= s.cfg.MaxParticipants {
		r.mu.Unlock()
		s.mu.Unlock()
		return nil, errFull()
	}
	lobby := p.State == stateLobby
	if lobby {
		r.lobby[mem.id] = mem
	} else {
		r.members[mem.id] = mem
	}
	view := r.viewLocked()
	r.mu.Unlock()
	s.mu.Unlock()

	if old != nil {
		old.c.sendJSON(byMsg{head: hd("replaced")})
		old.c.close(closeNormal, "replaced")
		old.stop()
	}
	if lobby {
		c.sendJSON(lobbyMsg{head: hd("lobby"), Room: view})
		mem.scheduleRefresh()
		r.sendLobbyList()
		r.log.Info("participant waiting in the lobby", "participant", mem.id)
		return mem, nil
	}
	if err := r.start(mem); err != nil {
		r.leave(mem)
		return nil, err
	}
	return mem, nil
}

// start connects an admitted member to the SFU and sends it the room. "joined" is queued under the
// room lock that also makes the member visible to broadcasts, so it is always the member's first
// message from the room.
func (r *room) start(mem *member) error {
	r.mu.Lock()
	role := mem.role
	r.mu.Unlock()
	sp, err := r.join(mem, sfu.JoinOptions{NoPublish: !role.Can(PermPublish)})
	if err != nil {
		return err
	}
	servers, token := r.s.iceServers(mem.id), r.s.tokens.issue(r.pub, mem.id)
	r.mu.Lock()
	if r.members[mem.id] != mem || r.closed {
		r.mu.Unlock()
		_ = sp.Close()
		return rocca.Localized(rocca.ECONFLICT, "conf.error.replaced", "joined from another window")
	}
	mem.sp, mem.ready = sp, true
	if !r.mayUnmuteLocked(mem) {
		mem.muted, mem.forced = true, true
	}
	muted := mem.muted
	msg := joinedMsg{head: hd("joined"), Self: mem.viewLocked(), Room: r.viewLocked(),
		Participants: r.participantsLocked(), Chat: slices.Clone(r.chat), Speaker: mem.speaker,
		ICEServers: servers, Token: token}
	if mem.role.Can(PermAdmit) {
		msg.Lobby = r.lobbyLocked()
	}
	mem.c.sendJSON(msg)
	r.mu.Unlock()
	if muted {
		_ = sp.SetMuted(webrtc.RTPCodecTypeAudio, true)
	}
	mem.scheduleRefresh()
	r.broadcastParticipants()
	r.sendPublicTo(mem)
	r.councilArrived(mem)
	r.log.Info("participant joined", "participant", mem.id, "role", string(role))
	return nil
}

// join adds mem to the SFU room. A stale SFU participant with the same id (its connection not yet
// noticed as dead) is closed first.
func (r *room) join(mem *member, opts sfu.JoinOptions) (*sfu.Participant, error) {
	sp, err := r.media.Join(mem.id, mem, opts)
	if rocca.ErrorCodeOf(err) == rocca.ECONFLICT {
		if stale := r.media.Participant(mem.id); stale != nil {
			_ = stale.Close()
		}
		sp, err = r.media.Join(mem.id, mem, opts)
	}
	if err != nil {
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "conf.error.media", "cannot join the media server: "+err.Error())
	}
	return sp, nil
}

// leave removes mem (gone, removed or replaced) and closes the room when it was the last one.
func (r *room) leave(mem *member) {
	r.mu.Lock()
	wasMember := r.members[mem.id] == mem
	wasLobby := r.lobby[mem.id] == mem
	if wasMember {
		delete(r.members, mem.id)
	}
	if wasLobby {
		delete(r.lobby, mem.id)
	}
	r.mu.Unlock()
	mem.stop()
	if wasMember {
		r.councilLeft(mem)
		r.broadcastParticipants()
		r.log.Info("participant left", "participant", mem.id)
	}
	if wasLobby {
		r.sendLobbyList()
	}
	r.s.closeIfEmpty(r)
}

// stop ends mem's media and token refresh.
func (mem *member) stop() {
	mem.r.mu.Lock()
	sp, t := mem.sp, mem.refresh
	mem.sp, mem.refresh = nil, nil
	mem.r.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	if sp != nil {
		_ = sp.Close()
	}
}

// closeIfEmpty forgets r and its SFU room once nobody is connected. Under s.mu, so that enter
// cannot pick a room that is closing.
func (s *Service) closeIfEmpty(r *room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.mu.Lock()
	empty := !r.closed && len(r.members) == 0 && len(r.lobby) == 0 && !r.councilKeepsLocked()
	if empty {
		r.closed = true
	}
	r.mu.Unlock()
	if !empty {
		return
	}
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
	r.endPublic()
	r.media.Close()
	r.log.Info("room closed")
}

// drop disconnects everybody with msg and close code, and closes the room now (end for all,
// server shutdown).
func (r *room) drop(msg any, code int, reason string) {
	r.mu.Lock()
	all := slices.Collect(maps.Values(r.members))
	all = append(all, slices.Collect(maps.Values(r.lobby))...)
	clear(r.members)
	clear(r.lobby)
	r.mu.Unlock()
	for _, mem := range all {
		mem.c.sendJSON(msg)
		mem.c.close(code, reason)
	}
	for _, mem := range all {
		mem.stop()
	}
	r.s.closeIfEmpty(r)
}

func (r *room) shutdown() {
	r.councilShutdown()
	r.drop(byMsg{head: hd("reconnect")}, closeGoingAway, "restarting")
}

// viewLocked describes the room.
func (r *room) viewLocked() roomView {
	return roomView{ID: r.pub, Title: r.title, Locked: r.locked, UnmuteAllowed: r.unmuteAllowed, Council: r.council}
}

func (mem *member) viewLocked() participantView {
	v := participantView{ID: mem.id, Name: mem.name, Role: mem.role, Muted: mem.muted, Camera: mem.camera,
		Hand: mem.hand, ForcedMute: mem.forced, Tracks: maps.Clone(mem.tracks)}
	for _, src := range mem.tracks {
		v.Screen = v.Screen || src == SourceScreen
	}
	return v
}

// participantsLocked lists the members in the order they arrived.
func (r *room) participantsLocked() []participantView {
	ms := slices.SortedFunc(maps.Values(r.members), func(a, b *member) int { return a.since.Compare(b.since) })
	out := make([]participantView, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.viewLocked())
	}
	return out
}

func (r *room) lobbyLocked() []lobbyView {
	ms := slices.SortedFunc(maps.Values(r.lobby), func(a, b *member) int { return a.since.Compare(b.since) })
	out := make([]lobbyView, 0, len(ms))
	for _, m := range ms {
		out = append(out, lobbyView{ID: m.id, Name: m.name, Since: m.since.UnixMilli()})
	}
	return out
}

// broadcastParticipants sends the participant list to every member (not to the lobby). The list
// itself holds members still joining too: they are in the room.
func (r *room) broadcastParticipants() {
	r.mu.Lock()
	b, _ := json.Marshal(participantsMsg{head: hd("participants"), Participants: r.participantsLocked()})
	to := r.membersLocked(0)
	r.mu.Unlock()
	for _, m := range to {
		m.c.sendRaw(b)
	}
}

// sendLobbyList tells the members who may admit people who is waiting.
func (r *room) sendLobbyList() {
	r.mu.Lock()
	b, _ := json.Marshal(lobbyListMsg{head: hd("lobby_list"), Waiting: r.lobbyLocked()})
	to := r.membersLocked(PermAdmit)
	r.mu.Unlock()
	for _, m := range to {
		m.c.sendRaw(b)
	}
}

// broadcastRoom sends the room settings to everybody, lobby included.
func (r *room) broadcastRoom() {
	r.mu.Lock()
	b, _ := json.Marshal(roomMsg{head: hd("room"), Room: r.viewLocked()})
	to := append(r.membersLocked(0), slices.Collect(maps.Values(r.lobby))...)
	r.mu.Unlock()
	for _, m := range to {
		m.c.sendRaw(b)
	}
}

// membersLocked returns the members who were sent "joined" and hold permission p (0: any).
func (r *room) membersLocked(p Permission) []*member {
	out := make([]*member, 0, len(r.members))
	for _, m := range r.members {
		if m.ready && (p == 0 || m.role.Can(p)) {
			out = append(out, m)
		}
	}
	return out
}

// iceServers are the TURN servers (with fresh credentials) a participant's browser may use.
func (s *Service) iceServers(participant string) []ICEServer {
	user, pass, urls := s.media.TURNCredentials(participant, s.cfg.TURNTTL)
	if len(urls) == 0 {
		return []ICEServer{}
	}
	return []ICEServer{{URLs: urls, Username: user, Credential: pass}}
}

// scheduleRefresh sends the member a fresh join token before the old one expires, so that it can
// reconnect after a network change or a server restart.
func (mem *member) scheduleRefresh() {
	d := mem.r.s.cfg.TokenTTL / 3
	mem.r.mu.Lock()
	defer mem.r.mu.Unlock()
	if mem.r.members[mem.id] != mem && mem.r.lobby[mem.id] != mem {
		return
	}
	if mem.refresh != nil {
		mem.refresh.Stop()
	}
	mem.refresh = time.AfterFunc(d, func() {
		mem.c.sendJSON(tokenMsg{head: hd("token"), Token: mem.r.s.tokens.issue(mem.r.pub, mem.id)})
		mem.scheduleRefresh()
	})
}

// sfuCall bounds a call into the SFU so that a stuck participant loop cannot hold a reader.
func sfuCall(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f(ctx)
}
