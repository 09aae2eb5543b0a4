package conferencing

import (
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
)

// councilAction runs a council message after checking who sent it: the chair's and the
// secretary's actions by their role in the room, the members' by their seat.
func (r *room) councilAction(mem *member, msg Message) error {
	if !r.council {
		return rocca.Localized(rocca.EINVALID, "conf.error.council_not_council", "this meeting is not a council session")
	}
	r.mu.Lock()
	role, user := mem.role, mem.user
	cl := r.councilLiveLocked()
	r.mu.Unlock()
	actor := councilActorOf(msg)
	switch {
	case actor == byChair && role != RoleChair:
		return rocca.Localized(rocca.EFORBIDDEN, "conf.error.council_chair_only", "only the President may do this")
	case actor == bySecretary && role != RoleSecretary && msg.Action == ActVoteCast:
		return rocca.Localized(rocca.EFORBIDDEN, "conf.error.council_cast_secretary_only",
			"only the Secretary enters the votes of the members in the chamber")
	case actor == bySecretary && role != RoleSecretary:
		return rocca.Localized(rocca.EFORBIDDEN, "conf.error.council_secretary_only", "only the Secretary may do this")
	case msg.Action == ActOpen:
		return r.councilOpen(mem)
	case cl == nil:
		return errCouncilNotOpen()
	}
	id := ""
	if cl.seats[user] {
		id = memberID(user)
	}
	if actor == byMember && id == "" {
		return rocca.Localized(rocca.EFORBIDDEN, "council.error.not_member", "not a member of the assembly")
	}
	err := r.councilDo(cl, mem, id, msg)
	cl.kickNow() // also for changes the record does not see yet (a secret ballot)
	return err
}

// councilDo runs one permitted action on the open session. by names the actor in the record.
func (r *room) councilDo(cl *councilLive, mem *member, id string, msg Message) error {
	s, by := cl.sess, mem.name
	switch msg.Action {
	case ActClose:
		return r.councilClose(mem)
	case ActRollCallStart:
		return s.StartRollCall(by)
	case ActRollCallClose:
		_, err := s.CloseRollCall(by)
		return err
	case ActConfirm:
		return s.Confirm(id)
	case ActOverride, ActClearOverride:
		if !cl.ids[msg.Target] {
			return errNoCouncilMember()
		}
		if msg.Action == ActClearOverride {
			return s.ClearOverride(msg.Target, by)
		}
		return s.Override(msg.Target, *msg.Present, msg.Note, by)
	case ActFloorRequest:
		return s.RequestFloor(id)
	case ActFloorWithdraw:
		return s.WithdrawFloor(id)
	case ActFloorGrant:
		return r.councilGrant(cl, mem, msg.Target, msg.Seconds)
	case ActFloorRevoke:
		err := s.RevokeFloor(by)
		r.councilSyncFloor(cl, by)
		return err
	case ActVoteOpen:
		_, err := s.OpenVote(msg.Item, msg.Text, msg.Secret)
		return err
	case ActVoteClose:
		_, err := s.CloseVote()
		return err
	case ActVoteCast:
		if msg.Target == "" {
			return r.councilCast(cl, id, council.Choice(msg.Choice), "")
		}
		if !cl.ids[msg.Target] {
			return errNoCouncilMember()
		}
		return r.councilCast(cl, msg.Target, council.Choice(msg.Choice), by)
	case ActSuspend:
		return s.Suspend(by, msg.Reason)
	case ActResume:
		return s.Resume(by)
	case ActRecordStart:
		return r.councilRecordStart(cl, by)
	case ActRecordStop:
		return r.councilRecordStop(cl, by)
	default: // ActSetPublic
		return r.councilSetPublic(cl, *msg.Public, by)
	}
}

func errNoCouncilMember() error {
	return rocca.Localized(rocca.ENOTFOUND, "conf.error.council_no_member", "no such member of the assembly")
}

// councilGrant gives the floor (to target, or to the first in the queue) with an optional
// speaking time; the previous speaker is muted.
func (r *room) councilGrant(cl *councilLive, actor *member, target string, seconds int) error {
	if target != "" && !cl.ids[target] {
		return errNoCouncilMember()
	}
	id, err := cl.sess.GrantFloor(target, actor.name, time.Duration(seconds)*time.Second)
	if err != nil {
		return err
	}
	cl.syncMu.Lock() // a sync running now must not clear the new deadline
	r.mu.Lock()
	cl.deadline, cl.deadlineFor = time.Time{}, ""
	if seconds > 0 {
		cl.deadline, cl.deadlineFor = r.s.now().Add(time.Duration(seconds)*time.Second), id
	}
	r.mu.Unlock()
	cl.syncMu.Unlock()
	r.councilSyncFloor(cl, actor.name)
	return nil
}

// councilCast records a ballot: member id's own (by == ""), or the one the Secretary (by) enters
// for a member in the chamber. Nothing about it is logged, and the room remembers only that the
// member voted (to show "you voted", and the Secretary who in the chamber voted), never what.
func (r *room) councilCast(cl *councilLive, id string, c council.Choice, by string) error {
	var err error
	if by == "" {
		err = cl.sess.Cast(id, c)
	} else {
		err = cl.sess.CastFor(id, c, by)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	if cl.voted != nil {
		cl.voted[id] = true
	}
	r.mu.Unlock()
	return nil
}

// councilRecordStart starts the recording: off in a closed session unless the setup allows it.
func (r *room) councilRecordStart(cl *councilLive, by string) error {
	if !cl.sess.State().Public && !cl.setup.RecordClosed {
		return rocca.Localized(rocca.ECONFLICT, "conf.error.council_recording_closed",
			"recording is off while the session is closed to the public")
	}
	if err := cl.sess.RecordingStarted(by); err != nil {
		return err
	}
	if err := r.councilRecording(cl, true); err != nil {
		_ = cl.sess.RecordingStopped(by)
		return err
	}
	return nil
}

func (r *room) councilRecordStop(cl *councilLive, by string) error {
	if err := cl.sess.RecordingStopped(by); err != nil {
		return err
	}
	return r.councilRecording(cl, false)
}

// councilSetPublic switches between a public and a closed session; a recording that the setup
// does not allow in a closed session stops.
func (r *room) councilSetPublic(cl *councilLive, public bool, by string) error {
	if err := cl.sess.SetPublic(public, by); err != nil {
		return err
	}
	r.councilPublic(public)
	if !public && !cl.setup.RecordClosed && cl.sess.State().Recording {
		return r.councilRecordStop(cl, by)
	}
	return nil
}
