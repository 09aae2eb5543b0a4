package conferencing

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// Per-connection limits: messages per second (with a burst for trickle ICE at start), chat
// messages per second, and client mistakes (malformed, out of order, over the rate) before the
// connection is dropped.
const (
	msgRate, msgBurst     = 20, 200
	chatRate, chatBurst   = 1, 5
	faultRate, faultBurst = 0.1, 20
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// CheckOrigin is left to the default: the Origin's host must be the request's host, so other
	// sites cannot open a meeting connection with a visitor's cookies.
}

// meetingWS is GET /meetings/{id}/ws: the signalling WebSocket (docs/signalling.md).
func (s *Service) meetingWS(w http.ResponseWriter, r *http.Request) {
	m, err := meetingByPublicID(r.Context(), s.db, r.PathValue("id"))
	if err != nil {
		s.room.Error(w, r, err)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered already
	}
	log := s.log.With("meeting", m.PublicID, "remote", r.RemoteAddr)
	c := newConn(ws, log, s.cat, web.Lang(r))
	s.serveConn(c, m)
	c.close(closeNormal, "")
	<-c.writerEnd
}

// session is the reader side of one connection.
type session struct {
	s      *Service
	c      *conn
	m      *Meeting
	mem    *member
	msgs   *bucket
	chats  *bucket
	faults *bucket
}

// serveConn reads messages until the client leaves, breaks a rule too often, or the connection
// ends; then it takes the participant out of the room.
func (s *Service) serveConn(c *conn, m *Meeting) {
	now := time.Now()
	ss := &session{s: s, c: c, m: m, msgs: newBucket(msgRate, msgBurst, now),
		chats: newBucket(chatRate, chatBurst, now), faults: newBucket(faultRate, faultBurst, now)}
	defer func() {
		if ss.mem != nil {
			ss.mem.r.leave(ss.mem)
		}
	}()
	c.readMessages(func() bool { return ss.mem != nil }, ss.handle)
}

// handle processes one message; false ends the connection.
func (ss *session) handle(b []byte) bool {
	now := time.Now()
	if !ss.msgs.take(now) {
		return ss.fault(rocca.Localized(rocca.ERATELIMIT, "conf.error.rate_limited", "too many messages"), "")
	}
	msg, err := DecodeMessage(b)
	if err != nil {
		return ss.fault(err, "")
	}
	if msg.Type == TypeChat && !ss.chats.take(now) {
		return ss.fault(rocca.Localized(rocca.ERATELIMIT, "conf.error.rate_limited", "too many chat messages"), msg.Type)
	}
	switch {
	case msg.Type == TypeLeave:
		ss.c.close(closeNormal, "left")
		return false
	case ss.mem == nil && msg.Type != TypeJoin:
		return ss.fault(rocca.Localized(rocca.ECONFLICT, "conf.error.not_joined", "join first"), msg.Type)
	case ss.mem == nil:
		return ss.join(msg)
	case msg.Type == TypeJoin:
		return ss.fault(rocca.Localized(rocca.ECONFLICT, "conf.error.already_joined", "already joined"), msg.Type)
	case ss.mem.inLobby():
		return ss.fault(rocca.Localized(rocca.ECONFLICT, "conf.error.in_lobby", "waiting in the lobby"), msg.Type)
	}
	if err := ss.mem.r.dispatch(ss.mem, msg); err != nil {
		ss.c.sendError(err, msg.Type)
	}
	return true
}

func (ss *session) fault(err error, ref string) bool { return ss.c.fault(ss.faults, err, ref) }

// join verifies the token and enters the room; a refused join ends the connection.
func (ss *session) join(msg Message) bool {
	s := ss.s
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, p, err := s.verifyJoin(ctx, ss.m.PublicID, msg.Token)
	if err == nil {
		ss.m = m
		muted, cameraOff := msg.Audio != nil && *msg.Audio, msg.Video != nil && *msg.Video
		ss.mem, err = s.enter(ss.m, p, ss.c, muted, cameraOff)
	}
	if err != nil {
		ss.c.refuseJoin(err, "join refused")
		return false
	}
	_ = ss.c.ws.SetReadDeadline(time.Now().Add(pongWait))
	return true
}

// verifyJoin checks the token and the participant's standing, reopening an ended meeting for its
// host.
func (s *Service) verifyJoin(ctx context.Context, meetingID, token string) (*Meeting, *Participant, error) {
	pid, err := s.tokens.verify(token, meetingID)
	if err != nil {
		return nil, nil, err
	}
	// Read again: the meeting may have been locked or ended since the connection opened.
	m, err := meetingByPublicID(ctx, s.db, meetingID)
	if err != nil {
		return nil, nil, err
	}
	p, err := participantByPublicID(ctx, s.db, m.ID, pid)
	if err != nil {
		return nil, nil, err
	}
	switch p.State {
	case stateRemoved:
		return nil, nil, errRemoved()
	case stateDenied:
		return nil, nil, rocca.Localized(rocca.EFORBIDDEN, "conf.error.denied", "not admitted")
	}
	if m.Ended() {
		if !p.Role.Can(PermEnd) {
			return nil, nil, errEnded()
		}
		if err := setMeetingEnded(ctx, s.db, m.ID, time.Time{}); err != nil {
			return nil, nil, err
		}
		m.EndedAt = time.Time{}
		s.log.Info("meeting reopened by its host", "meeting", m.PublicID, "participant", p.PublicID)
	}
	return m, p, nil
}

func (mem *member) inLobby() bool {
	mem.r.mu.Lock()
	defer mem.r.mu.Unlock()
	return mem.r.lobby[mem.id] == mem
}
