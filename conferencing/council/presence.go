package council

import (
	"time"

	"github.com/rocca-pa/rocca"
)

// Connect records that a member's connection is up: an arrival the first time, a reconnection
// afterwards. Media must then flow (MediaReceived) for the member to count as present.
func (s *Session) Connect(id string) error {
	return s.do(func() error {
		p, err := s.memberLocked(id)
		if err != nil || p.connected {
			return err
		}
		typ := "arrival"
		if p.seen {
			typ = "reconnection"
		}
		p.connected, p.seen, p.lastMedia = true, true, time.Time{}
		if err := s.appendLocked(typ, who(p)); err != nil {
			return err
		}
		return s.evaluateLocked(p, "connected")
	})
}

// Disconnect records that a member's connection is gone (left, or lost).
func (s *Session) Disconnect(id string) error {
	return s.do(func() error {
		p, err := s.memberLocked(id)
		if err != nil || !p.connected {
			return err
		}
		p.connected, p.lastMedia = false, time.Time{}
		if err := s.appendLocked("departure", who(p)); err != nil {
			return err
		}
		return s.evaluateLocked(p, "disconnected")
	})
}

// MediaReceived records that the server has just received the member's audio or video (the
// caller reports it from the media engine's statistics, at least once per media window).
func (s *Session) MediaReceived(id string) error {
	return s.do(func() error {
		p, err := s.memberLocked(id)
		if err != nil || !p.connected {
			return err
		}
		p.lastMedia = s.now()
		return s.evaluateLocked(p, "media")
	})
}

// Confirm records the member's "presente".
func (s *Session) Confirm(id string) error {
	return s.do(func() error {
		p, err := s.memberLocked(id)
		if err != nil {
			return err
		}
		if !p.connected {
			return rocca.Localized(rocca.ECONFLICT, "council.error.not_connected", "the member is not connected")
		}
		if p.confirmed {
			return nil
		}
		p.confirmed = true
		if err := s.appendLocked("confirmed", with(who(p), "roll_call", s.rollCall)); err != nil {
			return err
		}
		return s.evaluateLocked(p, "confirmed")
	})
}

// Override is the Secretary marking a member present (in the chamber, say) or absent whatever
// the connection says, with a note for the minutes. It stands until ClearOverride.
func (s *Session) Override(id string, present bool, note, by string) error {
	return s.do(func() error {
		p, err := s.memberLocked(id)
		if err != nil {
			return err
		}
		if note == "" {
			return rocca.Localized(rocca.EINVALID, "council.error.note", "an override needs a note")
		}
		p.override = &override{present: present, note: note, by: by}
		if err := s.appendLocked("override", with(who(p), "present", present, "note", note, "by", by)); err != nil {
			return err
		}
		return s.evaluateLocked(p, "override")
	})
}

// ClearOverride returns the member's presence to what the connection says.
func (s *Session) ClearOverride(id, by string) error {
	return s.do(func() error {
		p, err := s.memberLocked(id)
		if err != nil || p.override == nil {
			return err
		}
		p.override = nil
		if err := s.appendLocked("override_cleared", with(who(p), "by", by)); err != nil {
			return err
		}
		return s.evaluateLocked(p, "override_cleared")
	})
}

// Check re-evaluates every member against the clock, so that a member whose media stopped
// longer than the window ago becomes absent. The caller runs it periodically (every second or
// so) while the session is open.
func (s *Session) Check() error {
	return s.do(func() error {
		for _, p := range s.members {
			if err := s.evaluateLocked(p, "media_lost"); err != nil {
				return err
			}
		}
		return nil
	})
}

// isPresentLocked is the rule: the Secretary's override, or connected with media received
// within the window and "presente" confirmed.
func (s *Session) isPresentLocked(p *presence) bool {
	if p.override != nil {
		return p.override.present
	}
	return p.connected && p.confirmed && !p.lastMedia.IsZero() && s.now().Sub(p.lastMedia) <= s.window
}

// evaluateLocked records a change of p's presence (with why) and then of the quorum.
func (s *Session) evaluateLocked(p *presence, why string) error {
	now := s.isPresentLocked(p)
	if now == p.present {
		return nil
	}
	p.present = now
	if err := s.appendLocked("presence", with(who(p), "present", now, "reason", why)); err != nil {
		return err
	}
	return s.quorumLocked()
}

// counts returns the counted members present, those assigned and the number required.
func (s *Session) countsLocked() (present, assigned, required int) {
	for _, p := range s.members {
		if p.CountsForQuorum {
			assigned++
			if p.present {
				present++
			}
		}
	}
	return present, assigned, s.cfg.Quorum.Required(assigned)
}

func (s *Session) quorumDataLocked() map[string]any {
	present, assigned, required := s.countsLocked()
	return map[string]any{"quorum": present >= required, "present": present, "assigned": assigned, "required": required}
}

// quorumLocked records quorum_gained or quorum_lost when the quorum changes.
func (s *Session) quorumLocked() error {
	present, _, required := s.countsLocked()
	q := present >= required
	if q == s.quorum {
		return nil
	}
	s.quorum = q
	typ := "quorum_lost"
	if q {
		typ = "quorum_gained"
	}
	return s.appendLocked(typ, s.quorumDataLocked())
}

// StartRollCall starts the appello: members are asked to confirm "presente".
func (s *Session) StartRollCall(by string) error {
	return s.do(func() error {
		if s.rollCall {
			return rocca.Localized(rocca.ECONFLICT, "council.error.roll_call_open", "a roll call is already in progress")
		}
		s.rollCall = true
		return s.appendLocked("roll_call_started", map[string]any{"by": by})
	})
}

// RollCall is the outcome of an appello.
type RollCall struct {
	Present  []Member `json:"present"`
	Absent   []Member `json:"absent"`
	Quorum   bool     `json:"quorum"`
	Counted  int      `json:"counted_present"`
	Required int      `json:"required"`
}

// CloseRollCall ends the appello and records who is present and absent, and the quorum.
func (s *Session) CloseRollCall(by string) (RollCall, error) {
	var rc RollCall
	err := s.do(func() error {
		if !s.rollCall {
			return rocca.Localized(rocca.ECONFLICT, "council.error.no_roll_call", "no roll call is in progress")
		}
		s.rollCall = false
		rc = RollCall{Present: []Member{}, Absent: []Member{}}
		for _, p := range s.members {
			if p.present {
				rc.Present = append(rc.Present, p.Member)
			} else {
				rc.Absent = append(rc.Absent, p.Member)
			}
		}
		rc.Counted, _, rc.Required = s.countsLocked()
		rc.Quorum = rc.Counted >= rc.Required
		return s.appendLocked("roll_call", map[string]any{"by": by, "result": rc})
	})
	return rc, err
}

// MemberState is one member's presence as the Session sees it.
type MemberState struct {
	Member
	Connected bool   `json:"connected"`
	Confirmed bool   `json:"confirmed"`
	Present   bool   `json:"present"`
	Override  string `json:"override,omitempty"` // the Secretary's note, when overridden
}

// State is a snapshot for the consoles and the quorum banner.
type State struct {
	Members   []MemberState `json:"members"`
	Quorum    bool          `json:"quorum"`
	Present   int           `json:"present"` // counted members present
	Assigned  int           `json:"assigned"`
	Required  int           `json:"required"`
	Suspended bool          `json:"suspended"`
	RollCall  bool          `json:"roll_call"`
	Speaker   string        `json:"speaker,omitempty"`
	Queue     []string      `json:"queue"`
	Vote      *VoteState    `json:"vote,omitempty"`
	Closed    bool          `json:"closed"`
	Public    bool          `json:"public"`
	Recording bool          `json:"recording"`
}

// State returns a snapshot of the session.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Quorum: s.quorum, Suspended: s.suspended, RollCall: s.rollCall, Speaker: s.speaker,
		Queue: append([]string{}, s.queue...), Closed: s.closed, Public: s.public, Recording: s.recording}
	st.Present, st.Assigned, st.Required = s.countsLocked()
	for _, p := range s.members {
		ms := MemberState{Member: p.Member, Connected: p.connected, Confirmed: p.confirmed, Present: p.present}
		if p.override != nil {
			ms.Override = p.override.note
		}
		st.Members = append(st.Members, ms)
	}
	if s.vote != nil {
		v := s.vote.stateLocked()
		st.Vote = &v
	}
	return st
}
