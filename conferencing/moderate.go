package conferencing

import (
	"context"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/sfu"
)

// permissionFor is what each moderator action requires.
var permissionFor = map[string]Permission{
	TypeAdmit:       PermAdmit,
	TypeDeny:        PermAdmit,
	TypeMuteOne:     PermModerate,
	TypeStopCamera:  PermModerate,
	TypeMuteAll:     PermModerate,
	TypeAllowUnmute: PermModerate,
	TypeRemove:      PermModerate,
	TypeLock:        PermModerate,
	TypeLowerHand:   PermModerate,
	TypeEnd:         PermEnd,
	TypeSetRole:     PermPromote,
}

// moderate runs a moderator action after checking the actor's role.
func (r *room) moderate(actor *member, msg Message) error {
	need, ok := permissionFor[msg.Type]
	if !ok {
		return rocca.Localized(rocca.EINVALID, "conf.error.unknown_type", "unknown message type")
	}
	r.mu.Lock()
	allowed := actor.role.Can(need)
	r.mu.Unlock()
	if !allowed {
		return errForbidden()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch msg.Type {
	case TypeAdmit:
		return r.admit(ctx, actor.id, msg.Target)
	case TypeDeny:
		return r.deny(ctx, msg.Target)
	case TypeMuteOne:
		return r.muteOne(actor, msg.Target)
	case TypeStopCamera:
		return r.stopCamera(actor, msg.Target)
	case TypeMuteAll:
		return r.muteAll(actor, msg.Allowed)
	case TypeAllowUnmute:
		r.mu.Lock()
		r.unmuteAllowed = *msg.Allowed
		r.mu.Unlock()
		r.broadcastRoom()
		return nil
	case TypeRemove:
		return r.remove(ctx, actor, msg.Target)
	case TypeLock:
		return r.lock(ctx, *msg.Locked)
	case TypeLowerHand:
		return r.lowerHand(msg.Target)
	case TypeEnd:
		return r.end(ctx, actor)
	default: // TypeSetRole
		return r.setRole(ctx, msg.Target, msg.Role)
	}
}

func errNoParticipant() error {
	return rocca.Localized(rocca.ENOTFOUND, "conf.error.no_participant", "no such participant")
}

// admit lets a person in the lobby enter. A person who left the lobby meanwhile is admitted all
// the same: their next connection enters directly.
func (r *room) admit(ctx context.Context, by, target string) error {
	p, err := participantByPublicID(ctx, r.s.db, r.id, target)
	if err != nil {
		return errNoParticipant()
	}
	if p.State != stateLobby {
		return rocca.Localized(rocca.ECONFLICT, "conf.error.not_waiting", "not in the lobby")
	}
	if err := setParticipantState(ctx, r.s.db, p.ID, stateAdmitted, r.s.now()); err != nil {
		return err
	}
	r.mu.Lock()
	mem := r.lobby[target]
	if mem != nil {
		delete(r.lobby, target)
		r.members[target] = mem
	}
	r.mu.Unlock()
	r.sendLobbyList()
	r.log.Info("participant admitted", "participant", target, "by", by)
	if mem == nil {
		return nil
	}
	if err := r.start(mem); err != nil {
		mem.c.fail(err, TypeJoin, closeGoingAway)
	}
	return nil
}

// deny refuses a person in the lobby; their token stops working.
func (r *room) deny(ctx context.Context, target string) error {
	p, err := participantByPublicID(ctx, r.s.db, r.id, target)
	if err != nil {
		return errNoParticipant()
	}
	if p.State != stateLobby {
		return rocca.Localized(rocca.ECONFLICT, "conf.error.not_waiting", "not in the lobby")
	}
	if err := setParticipantState(ctx, r.s.db, p.ID, stateDenied, r.s.now()); err != nil {
		return err
	}
	r.mu.Lock()
	mem := r.lobby[target]
	r.mu.Unlock()
	if mem != nil {
		mem.c.sendJSON(byMsg{head: hd("denied")})
		mem.c.close(closeNormal, "denied")
	}
	return nil
}

// muteOne mutes a participant's microphone at the server and tells them.
func (r *room) muteOne(actor *member, target string) error {
	r.mu.Lock()
	mem := r.members[target]
	r.mu.Unlock()
	if mem == nil {
		return errNoParticipant()
	}
	r.forceMute(mem, actor.name)
	r.broadcastParticipants()
	return nil
}

func (r *room) forceMute(mem *member, by string) {
	r.mu.Lock()
	mem.muted, mem.forced = true, true
	sp := mem.sp
	r.mu.Unlock()
	if sp != nil {
		_ = sp.SetMuted(webrtc.RTPCodecTypeAudio, true)
	}
	mem.c.sendJSON(byMsg{head: hd("muted"), By: by})
}

// stopCamera turns a participant's camera off: the server stops forwarding their camera tracks
// (not their screen share) until they turn it on again themselves, and tells them.
func (r *room) stopCamera(actor *member, target string) error {
	r.mu.Lock()
	mem := r.members[target]
	var sp *sfu.Participant
	var cams []string
	if mem != nil {
		mem.camera, mem.cameraStopped, sp = false, true, mem.sp
		cams = mem.cameraTracks()
	}
	r.mu.Unlock()
	if mem == nil {
		return errNoParticipant()
	}
	muteTracks(sp, cams, true)
	mem.c.sendJSON(byMsg{head: hd("camera_stopped"), By: actor.name})
	r.broadcastParticipants()
	return nil
}

// muteTracks stops or resumes forwarding some of a member's tracks (sp nil: not connected).
func muteTracks(sp *sfu.Participant, ids []string, muted bool) {
	if sp == nil {
		return
	}
	for _, id := range ids {
		_ = sp.SetTrackMuted(id, muted)
	}
}

// muteAll mutes everybody but the moderators; allowUnmute=false also forbids unmuting.
func (r *room) muteAll(actor *member, allowUnmute *bool) error {
	r.mu.Lock()
	var targets []*member
	for _, m := range r.members {
		if !m.role.Can(PermModerate) {
			targets = append(targets, m)
		}
	}
	changed := allowUnmute != nil && r.unmuteAllowed != *allowUnmute
	if allowUnmute != nil {
		r.unmuteAllowed = *allowUnmute
	}
	r.mu.Unlock()
	for _, m := range targets {
		r.forceMute(m, actor.name)
	}
	if changed {
		r.broadcastRoom()
	}
	r.broadcastParticipants()
	return nil
}

// remove takes a participant out for good: their token stops working, and while the meeting is
// locked they cannot come back.
func (r *room) remove(ctx context.Context, actor *member, target string) error {
	if target == actor.id {
		return rocca.Localized(rocca.EINVALID, "conf.error.remove_self", "use leave to go")
	}
	p, err := participantByPublicID(ctx, r.s.db, r.id, target)
	if err != nil {
		return errNoParticipant()
	}
	if err := setParticipantState(ctx, r.s.db, p.ID, stateRemoved, r.s.now()); err != nil {
		return err
	}
	r.mu.Lock()
	mem := r.members[target]
	if mem == nil {
		mem = r.lobby[target]
	}
	r.mu.Unlock()
	if mem != nil {
		mem.c.sendJSON(byMsg{head: hd("removed"), By: actor.name})
		mem.c.close(closeNormal, "removed")
		r.leave(mem)
	}
	r.log.Info("participant removed", "participant", target, "by", actor.id)
	return nil
}

func (r *room) lock(ctx context.Context, locked bool) error {
	if err := setMeetingLocked(ctx, r.s.db, r.id, locked); err != nil {
		return err
	}
	r.mu.Lock()
	r.locked = locked
	r.mu.Unlock()
	r.broadcastRoom()
	return nil
}

func (r *room) lowerHand(target string) error {
	r.mu.Lock()
	mem := r.members[target]
	if mem != nil {
		mem.hand = false
	}
	r.mu.Unlock()
	if mem == nil {
		return errNoParticipant()
	}
	r.broadcastParticipants()
	return nil
}

// end closes the meeting for everybody; only a host may reopen it by joining again.
func (r *room) end(ctx context.Context, actor *member) error {
	if err := setMeetingEnded(ctx, r.s.db, r.id, r.s.now()); err != nil {
		return err
	}
	r.log.Info("meeting ended for all", "by", actor.id)
	r.drop(byMsg{head: hd("ended"), By: actor.name}, closeNormal, "ended")
	return nil
}

// setRole makes a participant host, cohost or member.
func (r *room) setRole(ctx context.Context, target string, role Role) error {
	if !assignable(role) {
		return rocca.Localized(rocca.EINVALID, "conf.error.role_invalid", "role cannot be given here")
	}
	p, err := participantByPublicID(ctx, r.s.db, r.id, target)
	if err != nil {
		return errNoParticipant()
	}
	if err := setParticipantRole(ctx, r.s.db, p.ID, role, r.s.now()); err != nil {
		return err
	}
	if p.UserID > 0 {
		// A user made host stays host when they come back; one demoted stops being one.
		if err := setHost(ctx, r.s.db, r.id, p.UserID, role == RoleHost); err != nil {
			return err
		}
	}
	r.mu.Lock()
	mem := r.members[target]
	gained := false
	if mem != nil {
		gained = !mem.role.Can(PermAdmit) && role.Can(PermAdmit)
		mem.role = role
	}
	r.mu.Unlock()
	r.broadcastParticipants()
	if gained {
		r.sendLobbyList()
	}
	return nil
}
