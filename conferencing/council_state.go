package conferencing

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/rocca-pa/rocca/conferencing/council"
)

// What the room says about its council session (docs/signalling.md, "Council sessions"): the
// same council_state to everybody in the room, with what concerns each recipient (me, role,
// can_vote, voted) filled in per person.

// councilBroadcast sends the state of a live (or just closed) session to everybody in the room.
func (r *room) councilBroadcast(cl *councilLive) {
	r.councilSyncFloor(cl, "")
	st := cl.sess.State()
	r.mu.Lock()
	base := councilStateView{State: st, Configured: true, Opened: !cl.closed && !st.Closed, Agenda: cl.agenda,
		RecordClosed: cl.setup.RecordClosed, LastResult: cl.lastResult, LastRollCall: cl.lastRollCall}
	if !cl.deadline.IsZero() && cl.deadlineFor == st.Speaker {
		base.FloorDeadline = cl.deadline.UTC().Format(time.RFC3339)
	}
	to := r.membersLocked(0)
	msgs := make([][]byte, len(to))
	for i, m := range to {
		msgs[i] = councilStateJSON(councilViewLocked(base, cl, m))
	}
	r.mu.Unlock()
	for i, m := range to {
		m.c.sendRaw(msgs[i])
	}
}

// councilSendClosed sends the final state of a session closed while the room lived on.
func (r *room) councilSendClosed(cl *councilLive, mem *member) {
	st := cl.sess.State()
	r.mu.Lock()
	base := councilStateView{State: st, Configured: true, Agenda: cl.agenda, RecordClosed: cl.setup.RecordClosed,
		LastResult: cl.lastResult, LastRollCall: cl.lastRollCall}
	b := councilStateJSON(councilViewLocked(base, cl, mem))
	r.mu.Unlock()
	mem.c.sendRaw(b)
}

// councilSendIdle sends the state of a session that is not open (scheduled, closed before a
// restart, or not set up) to one newcomer.
func (r *room) councilSendIdle(mem *member) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := meetingByPublicID(ctx, r.s.db, r.pub)
	var c *Council
	if err == nil {
		c, err = councilOf(ctx, r.s.db, m)
	}
	if err != nil {
		r.log.Error("council: read setup", "err", err)
		return
	}
	base := councilIdle(c)
	r.mu.Lock()
	b := councilStateJSON(councilViewLocked(base, nil, mem))
	r.mu.Unlock()
	mem.c.sendRaw(b)
}

// councilBroadcastIdle sends the state of a session that is not open to everybody in the room
// (its setup just changed).
func (r *room) councilBroadcastIdle(c *Council) {
	base := councilIdle(c)
	r.mu.Lock()
	if r.cl != nil {
		r.mu.Unlock()
		return // a session started meanwhile: its own state wins
	}
	to := r.membersLocked(0)
	msgs := make([][]byte, len(to))
	for i, m := range to {
		msgs[i] = councilStateJSON(councilViewLocked(base, nil, m))
	}
	r.mu.Unlock()
	for i, m := range to {
		m.c.sendRaw(msgs[i])
	}
}

// councilIdle is the state of a session that is not open: the assembly of its setup, nobody
// connected as far as the session knows.
func councilIdle(c *Council) councilStateView {
	v := councilStateView{State: council.State{Members: []council.MemberState{}, Queue: []string{}},
		Agenda: []council.AgendaItem{}}
	if c == nil {
		return v
	}
	v.Configured, v.Public, v.Closed, v.RecordClosed = true, c.Public, c.State == CouncilClosed, c.RecordClosed
	v.Agenda = c.agenda()
	for _, m := range c.members() {
		v.Members = append(v.Members, council.MemberState{Member: m})
		if m.CountsForQuorum {
			v.Assigned++
		}
	}
	v.Required = c.Quorum.Required(v.Assigned)
	return v
}

// councilViewLocked fills in what concerns one recipient. cl is nil when no session runs.
func councilViewLocked(base councilStateView, cl *councilLive, mem *member) councilStateView {
	v := base
	v.Role = councilRoleName(mem.role)
	if mem.user > 0 {
		id := memberID(mem.user)
		if slices.ContainsFunc(base.Members, func(m council.MemberState) bool { return m.ID == id }) {
			v.Me = id
		}
	}
	if cl != nil && v.Me != "" && base.Vote != nil && v.Opened {
		v.Voted = cl.voted[v.Me]
		v.CanVote = cl.eligible[v.Me] && !v.Voted
	}
	if cl != nil && mem.role == RoleSecretary && base.Vote != nil && v.Opened {
		v.Chamber = chamberVotesLocked(base.Members, cl)
	}
	if base.Closed && councilFree(mem.role) {
		v.Minutes = &minutesLinks{HTML: "/meetings/" + mem.r.pub + "/verbale", ODT: "/meetings/" + mem.r.pub + "/verbale.odt"}
	}
	return v
}

// chamberVotesLocked lists the members the Secretary marked present in the chamber (an override
// that says present), with whether each voted in the open vote: the Secretary enters their
// ballots (vote_cast with a target).
func chamberVotesLocked(members []council.MemberState, cl *councilLive) []chamberVote {
	out := []chamberVote{}
	for _, m := range members {
		if m.Override != "" && m.Present {
			voted := cl.voted[m.ID]
			out = append(out, chamberVote{ID: m.ID, CanVote: cl.eligible[m.ID] && !voted, Voted: voted})
		}
	}
	return out
}

func councilRoleName(r Role) string {
	switch r {
	case RoleChair, RoleSecretary, RoleMember:
		return string(r)
	}
	return "other"
}

func councilStateJSON(v councilStateView) []byte {
	b, _ := json.Marshal(councilStateMsg{head: hd("council_state"), State: v})
	return b
}

// councilQuorumLost alerts the chair and the secretary.
func (r *room) councilQuorumLost(present, required int) {
	r.mu.Lock()
	var to []*member
	for _, m := range r.members {
		if m.ready && councilFree(m.role) {
			to = append(to, m)
		}
	}
	r.mu.Unlock()
	for _, m := range to {
		m.c.sendJSON(councilAlertMsg{head: hd("council_alert"), Key: alertQuorumLost,
			Text: r.s.cat.T(m.c.lang, "conf.council.alert.quorum_lost", present, required)})
	}
}

const alertQuorumLost = "conf.council.alert.quorum_lost"

// councilSetupChanged gives the people connected to a live council room the roles of a new
// setup, and shows it to them.
func (s *Service) councilSetupChanged(ctx context.Context, m *Meeting, c *Council) {
	s.mu.Lock()
	r := s.rooms[m.ID]
	s.mu.Unlock()
	if r == nil {
		return
	}
	type change struct {
		dbID int64
		role Role
	}
	var changes []change
	gained := false
	r.mu.Lock()
	for _, mem := range r.members {
		role := c.roleOf(mem.user)
		if role == "" {
			role = RoleGuest
		}
		if mem.user <= 0 || role == mem.role {
			continue
		}
		gained = gained || (!mem.role.Can(PermAdmit) && role.Can(PermAdmit))
		mem.role = role
		changes = append(changes, change{mem.dbID, role})
	}
	// Somebody waiting in the lobby who now has a part in the session enters at once.
	var seated []string
	for id, mem := range r.lobby {
		if role := c.roleOf(mem.user); role != "" {
			mem.role = role
			changes = append(changes, change{mem.dbID, role})
			seated = append(seated, id)
		}
	}
	r.mu.Unlock()
	for _, ch := range changes {
		if err := setParticipantRole(ctx, s.db, ch.dbID, ch.role, s.now()); err != nil {
			s.log.Error("council: store new role", "err", err)
		}
	}
	for _, id := range seated {
		if err := r.admit(ctx, "council setup", id); err != nil {
			s.log.Error("council: admit a new seat from the lobby", "participant", id, "err", err)
		}
	}
	if len(changes) > 0 {
		r.broadcastParticipants()
	}
	if gained {
		r.sendLobbyList()
	}
	r.councilBroadcastIdle(c)
}
