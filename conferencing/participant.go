package conferencing

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/rocca-pa/rocca"
)

// Participant states, as stored.
const (
	stateLobby    = "lobby"    // waiting for a host
	stateAdmitted = "admitted" // may connect
	stateDenied   = "denied"   // refused at the lobby
	stateRemoved  = "removed"  // removed by a host: the token is dead
)

// Participant is one person's place in one meeting.
type Participant struct {
	ID        int64
	PublicID  string
	MeetingID int64
	UserID    int64 // 0 for guests
	Name      string
	Role      Role
	State     string
	CreatedAt time.Time
}

// JoinRequest is what the join page sends before opening the WebSocket.
type JoinRequest struct {
	Name     string `json:"name"`     // guests only: signed-in users are known by their account
	Passcode string `json:"passcode"` // guests only, when the meeting has one
}

// ICEServer is a STUN/TURN server for the browser's RTCPeerConnection.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// JoinResponse tells the join page how to connect.
type JoinResponse struct {
	Participant string `json:"participant"` // public id
	Name        string `json:"name"`
	Role        Role   `json:"role"`
	Lobby       bool   `json:"lobby"` // the participant waits for a host
	Token       string `json:"token"` // for the WebSocket join message
	WebSocket   string `json:"ws"`    // path of the signalling WebSocket
}

// Join gives the caller a place in the meeting: a signed-in user (u != nil) keeps one place per
// meeting and enters directly (unless a host removed them); a guest gets a new place in the lobby.
// A locked or ended meeting admits nobody new.
func (s *Service) Join(ctx context.Context, meetingID string, u *rocca.User, req JoinRequest) (*JoinResponse, error) {
	m, err := meetingByPublicID(ctx, s.db, meetingID)
	if err != nil {
		return nil, err
	}
	var p *Participant
	if u != nil && u.ID > 0 && !u.Disabled {
		p, err = s.joinUser(ctx, m, u)
	} else {
		p, err = s.joinGuest(ctx, m, req)
	}
	if err != nil {
		return nil, err
	}
	return &JoinResponse{
		Participant: p.PublicID, Name: p.Name, Role: p.Role, Lobby: p.State == stateLobby,
		Token: s.tokens.issue(m.PublicID, p.PublicID), WebSocket: "/meetings/" + m.PublicID + "/ws",
	}, nil
}

func (s *Service) joinUser(ctx context.Context, m *Meeting, u *rocca.User) (*Participant, error) {
	if p, handled, err := s.joinCouncilUser(ctx, m, u); handled {
		return p, err // roles from the council setup (council_join.go)
	}
	host := s.isHost(m, u)
	if m.Ended() && !host {
		return nil, errEnded()
	}
	p, err := participantForUser(ctx, s.db, m.ID, u.ID)
	if err != nil {
		return nil, err
	}
	if p != nil {
		switch {
		case p.State == stateAdmitted:
			if host && !p.Role.Can(PermPromote) {
				p.Role = RoleHost // made host after the first join
				err = setParticipantRole(ctx, s.db, p.ID, p.Role, s.now())
			}
			return p, err
		case p.State == stateLobby:
			return p, nil
		case m.Locked && !host && p.State == stateRemoved:
			return nil, errRemoved()
		case m.Locked && !host:
			return nil, errLocked()
		}
		// Removed or denied earlier, and the meeting is open: back to the lobby, a host decides.
		p.State = stateLobby
		if host {
			p.State = stateAdmitted
		}
		return p, setParticipantState(ctx, s.db, p.ID, p.State, s.now())
	}
	if m.Locked && !host {
		return nil, errLocked()
	}
	role := RoleMember
	if host {
		role = RoleHost
	}
	return s.addParticipant(ctx, m, u.ID, u.Name, role, stateAdmitted)
}

func (s *Service) joinGuest(ctx context.Context, m *Meeting, req JoinRequest) (*Participant, error) {
	if m.Ended() {
		return nil, errEnded()
	}
	if m.Locked {
		return nil, errLocked()
	}
	if m.Passcode != "" {
		if !s.passcodes.allow(m.ID, s.now()) {
			return nil, rocca.Localized(rocca.ERATELIMIT, "conf.error.passcode_throttled", "too many wrong passcodes")
		}
		if subtle.ConstantTimeCompare([]byte(req.Passcode), []byte(m.Passcode)) != 1 {
			s.passcodes.fail(m.ID, s.now())
			return nil, rocca.Localized(rocca.EFORBIDDEN, "conf.error.passcode_wrong", "wrong passcode")
		}
	}
	name, err := validName(req.Name)
	if err != nil {
		return nil, err
	}
	return s.addParticipant(ctx, m, 0, name, RoleGuest, stateLobby)
}

func (s *Service) addParticipant(ctx context.Context, m *Meeting, userID int64, name string, role Role, state string) (*Participant, error) {
	n, err := countParticipants(ctx, s.db, m.ID)
	if err != nil {
		return nil, err
	}
	if n >= s.cfg.MaxParticipants*4 {
		// Rows, not people: a guest who reloads leaves one behind. Far above the room cap, this only
		// stops somebody filling the table through the link.
		return nil, errFull()
	}
	if s.liveCount(m.ID) >= s.cfg.MaxParticipants {
		return nil, errFull()
	}
	p := &Participant{PublicID: randomID(10), MeetingID: m.ID, UserID: userID, Name: name, Role: role, State: state,
		CreatedAt: s.now()}
	if err := insertParticipant(ctx, s.db, p); err != nil {
		return nil, err
	}
	return p, nil
}

// isHost reports whether u hosts m: listed as a host, or staff in a meeting nobody hosts (meetings
// created from the command line).
func (s *Service) isHost(m *Meeting, u *rocca.User) bool {
	for _, h := range m.Hosts {
		if h == u.ID {
			return true
		}
	}
	return len(m.Hosts) == 0 && u.Can(rocca.RoleStaff)
}

func errEnded() error {
	return rocca.Localized(rocca.EGONE, "conf.error.ended", "the meeting has ended")
}

func errLocked() error {
	return rocca.Localized(rocca.EFORBIDDEN, "conf.error.locked", "the meeting is locked")
}

func errRemoved() error {
	return rocca.Localized(rocca.EFORBIDDEN, "conf.error.removed", "removed from the meeting")
}

func errFull() error {
	return rocca.Localized(rocca.ECONFLICT, "conf.error.full", "the meeting is full")
}
