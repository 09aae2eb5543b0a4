package conferencing

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
	"github.com/rocca-pa/rocca/conferencing/sfu"
)

// The room of a council meeting runs a council.Session while the session is open: from the
// President's "open" to their "close". The room tells the Session who is connected (members
// becoming ready in the room, leaving or losing their connection) and whose media reaches the
// server (from the SFU's statistics); a goroutine of the session re-checks presence every second
// and takes the floor back when a speaking time runs out; every change goes to everybody in the
// room as council_state (council_state.go).
//
// A room with an open session stays alive when the last person leaves, so that the session
// (and its record) survives everybody reconnecting. A server shutdown closes the record without
// a seal and leaves conf_council in state "open": the President opens the session again, which
// starts a new record file (the interrupted one stays in the council directory).

// Presence from media: the SFU reports every 2 s; a report counts when the member's last packet
// is under councilMediaFresh old, and a member stays present councilMediaWindow after the last
// report that counted. A member whose media stops is absent within fresh + window + one check
// tick: 9 s, inside the 10 s the issue asks for.
const (
	councilMediaWindow = 5 * time.Second
	councilMediaFresh  = 3 * time.Second
	councilTick        = time.Second
)

// councilLive is the open (or just closed) session of a room.
type councilLive struct {
	sess   *council.Session
	rec    *council.Record
	setup  *Council
	file   string // record file name, relative to Config.CouncilDir
	agenda []council.AgendaItem
	seats  map[int64]bool  // users holding a seat; fixed while the session lives
	ids    map[string]bool // their member ids
	cancel context.CancelFunc
	done   chan struct{}
	kick   chan struct{} // something changed: send everybody the state
	syncMu sync.Mutex    // serialises councilSyncFloor

	// Guarded by room.mu.
	closed       bool   // closed and sealed, or stopped by a shutdown
	speaker      string // who holds the floor, as last synced from the Session
	deadline     time.Time
	deadlineFor  string
	eligible     map[string]bool // who may vote in the open vote
	voted        map[string]bool // who cast a ballot in it (never what)
	voters       []council.Member
	lastResult   *voteResultView
	lastRollCall *council.RollCall
	recordings   int // recordings started, to name their directories
}

func (cl *councilLive) kickNow() {
	select {
	case cl.kick <- struct{}{}:
	default:
	}
}

// councilPath is the full path of a record file.
func (s *Service) councilPath(name string) string { return filepath.Join(s.cfg.CouncilDir, name) }

// councilLiveLocked is the room's open session, or nil.
func (r *room) councilLiveLocked() *councilLive {
	if r.cl == nil || r.cl.closed {
		return nil
	}
	return r.cl
}

func errCouncilNotOpen() error {
	return rocca.Localized(rocca.ECONFLICT, "conf.error.council_not_open", "the council session is not open")
}

// councilOpen opens the session: the chair's "open".
func (r *room) councilOpen(actor *member) error {
	r.clMu.Lock()
	defer r.clMu.Unlock()
	r.mu.Lock()
	open := r.councilLiveLocked() != nil
	r.mu.Unlock()
	if open {
		return rocca.Localized(rocca.ECONFLICT, "conf.error.council_already_open", "the council session is already open")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := meetingByPublicID(ctx, r.s.db, r.pub)
	if err != nil {
		return err
	}
	c, err := councilOf(ctx, r.s.db, m)
	switch {
	case err != nil:
		return err
	case c == nil:
		return rocca.Localized(rocca.ECONFLICT, "conf.error.council_not_set", "the council session is not set up yet")
	case c.State == CouncilClosed:
		return rocca.Localized(rocca.ECONFLICT, "conf.error.council_closed", "the session is closed")
	}
	cl, err := r.startCouncil(ctx, m, c)
	if err != nil {
		return err
	}
	r.councilAdmit(cl, actor)
	if c.Public {
		r.councilPublic(true)
	}
	r.log.Info("council session opened", "record", cl.file, "seats", len(c.Seats), "by", actor.id)
	cl.kickNow()
	return nil
}

// startCouncil creates the record and the Session, marks the session open and starts its loop.
func (r *room) startCouncil(ctx context.Context, m *Meeting, c *Council) (*councilLive, error) {
	// The key must be there to seal the record at the end: better to know now.
	key, err := council.LoadOrCreateKey(r.s.cfg.CouncilKeyFile)
	if err != nil {
		return nil, fmt.Errorf("open council session: %w", err)
	}
	now := r.s.now()
	stem := fmt.Sprintf("council-%d-%s-%s", m.ID, now.UTC().Format("20060102T150405Z"), randomID(3))
	path := r.s.councilPath(stem + ".record")
	rec, err := council.CreateRecord(path)
	if err != nil {
		return nil, fmt.Errorf("open council session: %w", err)
	}
	var continues *council.Continuation
	if c.State == CouncilOpen && c.RecordFile != "" {
		continues = r.sealInterrupted(key, c.RecordFile, filepath.Base(path), now)
	}
	cl := &councilLive{rec: rec, setup: c, file: filepath.Base(path), agenda: c.agenda(),
		seats: map[int64]bool{}, ids: map[string]bool{}, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	for _, st := range c.Seats {
		cl.seats[st.UserID], cl.ids[memberID(st.UserID)] = true, true
	}
	cl.sess, err = council.New(council.Config{ID: stem, Title: m.Title, Agenda: cl.agenda, Public: c.Public,
		Members: c.members(), Quorum: c.Quorum, MediaWindow: councilMediaWindow, Now: r.s.now, Record: rec,
		Continues: continues, Notify: func(e council.Entry) { r.councilEvent(cl, e) }})
	if err == nil {
		err = setCouncilState(ctx, r.s.db, r.id, CouncilOpen, cl.file, now)
	}
	if err != nil {
		_ = rec.Close()
		_ = os.Remove(path) // nothing happened in it
		return nil, err
	}
	loop, stop := context.WithCancel(context.Background())
	cl.cancel = stop
	r.mu.Lock()
	r.cl = cl
	r.mu.Unlock()
	go r.councilLoop(loop, cl)
	return cl, nil
}

// sealInterrupted seals the record of this session that a server restart left open, so that it
// verifies on its own and points to the record the session continues in. A record that cannot be
// sealed (damaged, missing) stays as it is: the new record still names it.
func (r *room) sealInterrupted(key ed25519.PrivateKey, earlier, next string, now time.Time) *council.Continuation {
	last, err := council.SealInterrupted(r.s.councilPath(earlier), key, now, next)
	if err != nil {
		r.log.Warn("council session opened again after an interruption; the earlier record could not be sealed",
			"earlier_record", earlier, "record", next, "err", err)
		return &council.Continuation{File: earlier}
	}
	r.log.Info("council session opened again after an interruption; the earlier record is sealed",
		"earlier_record", earlier, "record", next)
	return &council.Continuation{File: earlier, LastHash: last}
}

// councilAdmit tells the new Session who is already here, and mutes the microphones of all but
// the chair and the secretary: from now on the floor decides who speaks.
func (r *room) councilAdmit(cl *councilLive, actor *member) {
	var seated []string
	var mute []*member
	r.mu.Lock()
	for _, mem := range r.members {
		if !mem.ready {
			continue // start() connects it when it is
		}
		if cl.seats[mem.user] {
			seated = append(seated, memberID(mem.user))
		}
		if !councilFree(mem.role) && !mem.muted {
			mute = append(mute, mem)
		}
	}
	r.mu.Unlock()
	for _, id := range seated {
		if err := cl.sess.Connect(id); err != nil {
			r.log.Error("council: record connection", "err", err)
		}
	}
	for _, mem := range mute {
		r.forceMute(mem, actor.name)
	}
	if len(mute) > 0 {
		r.broadcastParticipants()
	}
}

// councilFree: roles that may always speak in an open session.
func councilFree(role Role) bool { return role == RoleChair || role == RoleSecretary }

// councilLoop re-checks presence every second, takes the floor back at the end of a speaking
// time and sends the state after every change, until the session ends.
func (r *room) councilLoop(ctx context.Context, cl *councilLive) {
	defer close(cl.done)
	t := time.NewTicker(councilTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := cl.sess.Check(); err != nil && rocca.ErrorCodeOf(err) != rocca.EGONE {
				r.log.Error("council: presence check", "err", err)
			}
			r.councilDeadline(cl)
		case <-cl.kick:
			r.councilBroadcast(cl)
		}
	}
}

// councilClose closes and seals the session: the chair's "close".
func (r *room) councilClose(actor *member) error {
	r.clMu.Lock()
	defer r.clMu.Unlock()
	r.mu.Lock()
	cl := r.councilLiveLocked()
	r.mu.Unlock()
	if cl == nil {
		return errCouncilNotOpen()
	}
	key, err := council.LoadOrCreateKey(r.s.cfg.CouncilKeyFile)
	if err != nil {
		return fmt.Errorf("close council session: %w", err)
	}
	r.councilMediaOff(cl, actor.name)
	sealErr := cl.sess.Close(actor.name, key)
	cl.cancel()
	<-cl.done
	r.mu.Lock()
	cl.closed, cl.speaker, cl.deadline, cl.deadlineFor = true, "", time.Time{}, ""
	r.mu.Unlock()
	if sealErr != nil {
		// The Session is over either way; conf_council stays open so that the President can
		// open a new one, as after a restart.
		r.log.Error("council: seal the record", "record", cl.file, "err", sealErr)
		r.councilBroadcast(cl)
		return fmt.Errorf("seal council record: %w", sealErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = setCouncilState(ctx, r.s.db, r.id, CouncilClosed, cl.file, r.s.now())
	r.log.Info("council session closed and sealed", "record", cl.file, "by", actor.id)
	r.councilBroadcast(cl)
	return err
}

// councilMediaOff stops the recording and the public stream at the end of the session.
func (r *room) councilMediaOff(cl *councilLive, by string) {
	st := cl.sess.State()
	if st.Recording {
		if err := cl.sess.RecordingStopped(by); err != nil {
			r.log.Error("council: record the end of the recording", "err", err)
		}
		if err := r.councilRecording(cl, false); err != nil {
			r.log.Error("council: stop the recording", "err", err)
		}
	}
	if st.Public {
		r.councilPublic(false)
	}
}

// councilShutdown ends the session when the server stops: the record is closed without a seal
// and conf_council stays "open" (see the comment at the top).
func (r *room) councilShutdown() {
	r.clMu.Lock()
	defer r.clMu.Unlock()
	r.mu.Lock()
	cl := r.councilLiveLocked()
	r.mu.Unlock()
	if cl == nil {
		return
	}
	cl.cancel()
	<-cl.done
	st := cl.sess.State()
	if st.Recording {
		if err := r.councilRecording(cl, false); err != nil {
			r.log.Error("council: stop the recording", "err", err)
		}
	}
	if st.Public {
		r.councilPublic(false)
	}
	r.mu.Lock()
	cl.closed = true
	r.mu.Unlock()
	if err := cl.rec.Close(); err != nil {
		r.log.Error("council: close the record", "record", cl.file, "err", err)
	}
	r.log.Warn("council session interrupted by the server stopping: its record is closed without a seal "+
		"until the President opens the session again, which seals it and continues in a new record", "record", cl.file)
}

// councilKeepsLocked reports whether the room must stay alive although empty: its session is
// open.
func (r *room) councilKeepsLocked() bool { return r.councilLiveLocked() != nil }

// councilArrived: a participant became ready in the room.
func (r *room) councilArrived(mem *member) {
	if !r.council {
		return
	}
	r.mu.Lock()
	cl := r.cl
	open := r.councilLiveLocked() != nil
	r.mu.Unlock()
	switch {
	case cl == nil:
		r.councilSendIdle(mem)
	case !open:
		r.councilSendClosed(cl, mem)
	default:
		if cl.seats[mem.user] {
			if err := cl.sess.Connect(memberID(mem.user)); err != nil {
				r.log.Error("council: record arrival", "err", err)
			}
		}
		cl.kickNow() // the newcomer's first state, and everybody's new one
	}
}

// councilLeft: a participant left the room, or lost its connection.
func (r *room) councilLeft(mem *member) {
	if !r.council {
		return
	}
	r.mu.Lock()
	cl := r.councilLiveLocked()
	r.mu.Unlock()
	if cl == nil || !cl.seats[mem.user] {
		return
	}
	if err := cl.sess.Disconnect(memberID(mem.user)); err != nil {
		r.log.Error("council: record departure", "err", err)
	}
}

// councilMedia: the SFU's statistics of a participant; recent packets of any published track
// keep a member present.
func (r *room) councilMedia(mem *member, st sfu.Stats) {
	if !r.council {
		return
	}
	r.mu.Lock()
	cl := r.councilLiveLocked()
	ok := cl != nil && cl.seats[mem.user] && r.members[mem.id] == mem && mem.ready
	r.mu.Unlock()
	if !ok || !mediaFresh(st, time.Now()) {
		return
	}
	if err := cl.sess.MediaReceived(memberID(mem.user)); err != nil && rocca.ErrorCodeOf(err) != rocca.EGONE {
		r.log.Error("council: record media", "err", err)
	}
}

// mediaFresh reports whether a published track's last packet is recent. The SFU's timestamps
// are wall-clock, hence time.Now and not the Service's clock.
func mediaFresh(st sfu.Stats, now time.Time) bool {
	for _, p := range st.Published {
		if !p.LastPacket.IsZero() && now.Sub(p.LastPacket) <= councilMediaFresh {
			return true
		}
	}
	return false
}

// councilMayUnmuteLocked is the floor rule: in an open session only the chair, the secretary
// and whoever holds the floor may unmute. applies is false when no session is open.
func (r *room) councilMayUnmuteLocked(mem *member) (applies, may bool) {
	cl := r.councilLiveLocked()
	if cl == nil {
		return false, false
	}
	if councilFree(mem.role) {
		return true, true
	}
	return true, mem.user > 0 && cl.speaker != "" && cl.speaker == memberID(mem.user)
}

// councilMemberLocked is the ready participant holding member id, or nil.
func (r *room) councilMemberLocked(id string) *member {
	for _, m := range r.members {
		if m.ready && m.user > 0 && memberID(m.user) == id {
			return m
		}
	}
	return nil
}

// councilSyncFloor applies the Session's floor to the room: the previous speaker's microphone
// is muted at the server (unless chair or secretary), and a speaking time ends with the turn.
func (r *room) councilSyncFloor(cl *councilLive, by string) {
	cl.syncMu.Lock()
	defer cl.syncMu.Unlock()
	speaker := cl.sess.State().Speaker
	r.mu.Lock()
	prev := cl.speaker
	cl.speaker = speaker
	if cl.deadlineFor != speaker {
		cl.deadline, cl.deadlineFor = time.Time{}, ""
	}
	var silence *member
	if prev != "" && prev != speaker {
		if m := r.councilMemberLocked(prev); m != nil && !councilFree(m.role) && !m.muted {
			silence = m
		}
	}
	r.mu.Unlock()
	if silence != nil {
		r.forceMute(silence, by)
		r.broadcastParticipants()
	}
}

// councilDeadline takes the floor back when the speaking time given with it is over.
func (r *room) councilDeadline(cl *councilLive) {
	r.mu.Lock()
	due := !cl.deadline.IsZero() && !r.s.now().Before(cl.deadline)
	who := cl.deadlineFor
	if due {
		cl.deadline, cl.deadlineFor = time.Time{}, ""
	}
	r.mu.Unlock()
	if !due || cl.sess.State().Speaker != who {
		return
	}
	// by is empty: the time limit, not a person, took the floor back.
	if err := cl.sess.RevokeFloor(""); err != nil && rocca.ErrorCodeOf(err) != rocca.EGONE {
		r.log.Error("council: revoke the floor", "err", err)
	}
	r.councilSyncFloor(cl, "")
}

// councilEvent is the Session's Notify: it keeps what the state shows besides council.State,
// stores vote totals, alerts on quorum lost, and asks for a broadcast. The data of secret votes
// is never logged.
func (r *room) councilEvent(cl *councilLive, e council.Entry) {
	switch e.Type {
	case "vote_opened":
		var d struct {
			Eligible []council.Member `json:"eligible"`
		}
		_ = json.Unmarshal(e.Data, &d)
		r.mu.Lock()
		cl.eligible, cl.voted, cl.voters = map[string]bool{}, map[string]bool{}, nil
		for _, m := range d.Eligible {
			cl.eligible[m.ID] = true
		}
		r.mu.Unlock()
	case "vote_voters": // secret votes: who voted, apart from the ballots
		var d struct {
			Voters []council.Member `json:"voters"`
		}
		_ = json.Unmarshal(e.Data, &d)
		r.mu.Lock()
		cl.voters = d.Voters
		r.mu.Unlock()
	case "vote_closed":
		r.councilVoteClosed(cl, e)
	case "roll_call":
		var d struct {
			Result council.RollCall `json:"result"`
		}
		if json.Unmarshal(e.Data, &d) == nil {
			r.mu.Lock()
			cl.lastRollCall = &d.Result
			r.mu.Unlock()
		}
	case "quorum_lost":
		var d struct {
			Present  int `json:"present"`
			Required int `json:"required"`
		}
		_ = json.Unmarshal(e.Data, &d)
		r.councilQuorumLost(d.Present, d.Required)
	}
	cl.kickNow()
}

// councilVoteClosed keeps the result for the state and stores the totals.
func (r *room) councilVoteClosed(cl *councilLive, e council.Entry) {
	var d struct {
		Vote     int                                 `json:"vote"`
		Item     string                              `json:"item"`
		Secret   bool                                `json:"secret"`
		Eligible int                                 `json:"eligible"`
		Totals   council.Totals                      `json:"totals"`
		ByName   map[council.Choice][]council.Member `json:"by_name"`
		Voters   []council.Member                    `json:"voters"`
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		r.log.Error("council: read vote result", "err", err)
		return
	}
	res := &voteResultView{N: d.Vote, Item: d.Item, Secret: d.Secret, Eligible: d.Eligible, Totals: d.Totals,
		Voters: d.Voters, ByName: d.ByName}
	r.mu.Lock()
	if d.Secret {
		res.Voters = cl.voters
	}
	if res.Voters == nil {
		res.Voters = []council.Member{}
	}
	cl.lastResult, cl.eligible, cl.voted, cl.voters = res, nil, nil, nil
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := insertCouncilVote(ctx, r.s.db, r.id, CouncilVote{N: d.Vote, Item: d.Item, Secret: d.Secret,
		Eligible: d.Eligible, Totals: d.Totals, ClosedAt: r.s.now()})
	if err != nil {
		r.log.Error("council: store vote totals", "vote", d.Vote, "err", err)
	}
	r.log.Info("council vote closed", "vote", d.Vote, "secret", d.Secret)
}

// councilOpenNow reports whether the room's council session is open.
func (r *room) councilOpenNow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.councilLiveLocked() != nil
}
