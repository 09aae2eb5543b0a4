package conferencing

import (
	"context"

	"github.com/rocca-pa/rocca"
)

// joinCouncilUser places a signed-in user in a council meeting that has its setup. The roles
// come from the setup at every join, so a changed setup applies when people come back: the
// President enters as chair, the Secretary as secretary, the seat holders as members. Anybody
// else (staff, the meeting's creator, other users) waits in the lobby like a guest and, once
// admitted, takes part as a guest. Handled is false for a meeting that is not such a council.
func (s *Service) joinCouncilUser(ctx context.Context, m *Meeting, u *rocca.User) (p *Participant, handled bool, err error) {
	if !m.Council {
		return nil, false, nil
	}
	c, err := councilOf(ctx, s.db, m)
	if err != nil || c == nil {
		return nil, err != nil, err
	}
	role := c.roleOf(u.ID)
	if m.Ended() && !role.Can(PermEnd) {
		return nil, true, errEnded()
	}
	if p, err = participantForUser(ctx, s.db, m.ID, u.ID); err != nil {
		return nil, true, err
	}
	if role != "" {
		p, err = s.seatParticipant(ctx, m, u, p, role)
		return p, true, err
	}
	// Not part of the session.
	switch {
	case p == nil && m.Locked:
		return nil, true, errLocked()
	case p == nil:
		p, err = s.addParticipant(ctx, m, u.ID, u.Name, RoleGuest, stateLobby)
		return p, true, err
	case p.Role != RoleGuest:
		// A council role of an earlier setup, or a host's of the plain meeting: no more.
		p.Role, p.State = RoleGuest, stateLobby
		if err = setParticipantRole(ctx, s.db, p.ID, p.Role, s.now()); err == nil {
			err = setParticipantState(ctx, s.db, p.ID, p.State, s.now())
		}
		return p, true, err
	case p.State == stateAdmitted || p.State == stateLobby:
		return p, true, nil
	case m.Locked && p.State == stateRemoved:
		return nil, true, errRemoved()
	case m.Locked:
		return nil, true, errLocked()
	}
	p.State = stateLobby // removed or denied earlier, the meeting is open: the chair decides again
	return p, true, setParticipantState(ctx, s.db, p.ID, p.State, s.now())
}

// seatParticipant gives the chair, the secretary or a member their place: they always enter,
// even a locked meeting, since the session cannot do without them.
func (s *Service) seatParticipant(ctx context.Context, m *Meeting, u *rocca.User, p *Participant, role Role) (*Participant, error) {
	if p == nil {
		return s.addParticipant(ctx, m, u.ID, u.Name, role, stateAdmitted)
	}
	if p.Role != role {
		p.Role = role
		if err := setParticipantRole(ctx, s.db, p.ID, role, s.now()); err != nil {
			return nil, err
		}
	}
	if p.State != stateAdmitted {
		p.State = stateAdmitted
		if err := setParticipantState(ctx, s.db, p.ID, p.State, s.now()); err != nil {
			return nil, err
		}
	}
	return p, nil
}
