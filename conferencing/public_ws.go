package conferencing

import (
	"context"
	"net/http"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// ws is GET /pubblico/{stream}/ws: the public stream's signalling WebSocket. It speaks the
// meeting protocol (docs/signalling.md) restricted to what a viewer needs: join with a viewer
// token, then the media negotiation (offer, answer, candidate, restart_ice, layer) and leave.
// Anything else is refused as a fault, so a viewer never reaches the room's other messages.
func (p *publicSite) ws(w http.ResponseWriter, r *http.Request) {
	s := p.s
	stream := r.PathValue("stream")
	m, err := meetingByStream(r.Context(), s.db, stream)
	if err != nil {
		s.room.Error(w, r, err)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered already
	}
	c := newConn(ws, s.log.With("stream", stream, "remote", r.RemoteAddr), s.cat, web.Lang(r))
	s.serveViewer(c, m, stream)
	c.close(closeNormal, "")
	<-c.writerEnd
}

// viewerSession is the reader side of one viewer connection.
type viewerSession struct {
	s      *Service
	c      *conn
	m      *Meeting
	stream string
	v      *viewer
	msgs   *bucket
	faults *bucket
}

// serveViewer reads messages until the viewer leaves, breaks the rules too often, or is cut.
func (s *Service) serveViewer(c *conn, m *Meeting, stream string) {
	now := time.Now()
	vs := &viewerSession{s: s, c: c, m: m, stream: stream,
		msgs: newBucket(msgRate, msgBurst, now), faults: newBucket(faultRate, faultBurst, now)}
	defer func() {
		if vs.v != nil {
			vs.v.r.leaveViewer(vs.v)
		}
	}()
	c.readMessages(func() bool { return vs.v != nil }, vs.handle)
}

// handle processes one message; false ends the connection.
func (vs *viewerSession) handle(b []byte) bool {
	if !vs.msgs.take(time.Now()) {
		return vs.fault(rocca.Localized(rocca.ERATELIMIT, "conf.error.rate_limited", "too many messages"), "")
	}
	msg, err := DecodeMessage(b)
	if err != nil {
		return vs.fault(err, "")
	}
	switch {
	case msg.Type == TypeLeave:
		vs.c.close(closeNormal, "left")
		return false
	case vs.v == nil && msg.Type != TypeJoin:
		return vs.fault(rocca.Localized(rocca.ECONFLICT, "conf.error.not_joined", "join first"), msg.Type)
	case vs.v == nil:
		return vs.join(msg)
	}
	switch msg.Type {
	case TypeOffer, TypeAnswer, TypeCandidate, TypeRestartICE, TypeLayer:
		vs.v.r.mu.Lock()
		sp := vs.v.sp
		vs.v.r.mu.Unlock()
		if err := sfuMessage(sp, msg); err != nil {
			vs.c.sendError(err, msg.Type)
		}
		return true
	case TypeJoin:
		return vs.fault(rocca.Localized(rocca.ECONFLICT, "conf.error.already_joined", "already joined"), msg.Type)
	}
	return vs.fault(errForbidden(), msg.Type) // chat, hand, mute, moderation: not for viewers
}

func (vs *viewerSession) fault(err error, ref string) bool { return vs.c.fault(vs.faults, err, ref) }

// join checks the viewer token and the stream, and connects the viewer; a refusal ends the
// connection with the reason (public_closed, public_full, public_not_live, …).
func (vs *viewerSession) join(msg Message) bool {
	s := vs.s
	id, err := s.tokens.verifyViewer(msg.Token, vs.stream)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		// Read again: the meeting may have ended since the connection opened.
		vs.m, err = meetingByPublicID(ctx, s.db, vs.m.PublicID)
		cancel()
	}
	if err == nil {
		vs.v, err = s.enterViewer(vs.m, id, vs.c)
	}
	if err != nil {
		vs.c.refuseJoin(err, "public join refused")
		return false
	}
	_ = vs.c.ws.SetReadDeadline(time.Now().Add(pongWait))
	return true
}
