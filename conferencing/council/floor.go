package council

import (
	"slices"
	"time"

	"github.com/rocca-pa/rocca"
)

// RequestFloor puts a member in the queue of those asking to speak.
func (s *Session) RequestFloor(id string) error {
	return s.do(func() error {
		p, err := s.memberLocked(id)
		if err != nil || slices.Contains(s.queue, id) || s.speaker == id {
			return err
		}
		s.queue = append(s.queue, id)
		return s.appendLocked("floor_requested", who(p))
	})
}

// WithdrawFloor takes a member's request out of the queue.
func (s *Session) WithdrawFloor(id string) error {
	return s.do(func() error {
		p, err := s.memberLocked(id)
		if err != nil || !slices.Contains(s.queue, id) {
			return err
		}
		s.queue = slices.DeleteFunc(s.queue, func(q string) bool { return q == id })
		return s.appendLocked("floor_withdrawn", who(p))
	})
}

// GrantFloor gives the floor to a member (the first in the queue when id is empty), taking it
// from the current speaker; limit is the optional speaking time (0: none). It returns who has
// the floor: the caller lets only that member unmute.
func (s *Session) GrantFloor(id, by string, limit time.Duration) (string, error) {
	err := s.do(func() error {
		if id == "" {
			if len(s.queue) == 0 {
				return rocca.Localized(rocca.ECONFLICT, "council.error.queue_empty", "nobody has asked to speak")
			}
			id = s.queue[0]
		}
		p, err := s.memberLocked(id)
		if err != nil {
			return err
		}
		if err := s.revokeLocked(by); err != nil {
			return err
		}
		s.queue = slices.DeleteFunc(s.queue, func(q string) bool { return q == id })
		s.speaker = id
		return s.appendLocked("floor_granted", with(who(p), "by", by, "limit_s", int(limit/time.Second)))
	})
	return id, err
}

// RevokeFloor takes the floor back from the speaker.
func (s *Session) RevokeFloor(by string) error {
	return s.do(func() error { return s.revokeLocked(by) })
}

func (s *Session) revokeLocked(by string) error {
	if s.speaker == "" {
		return nil
	}
	p := s.byID[s.speaker]
	s.speaker = ""
	return s.appendLocked("floor_revoked", with(who(p), "by", by))
}
