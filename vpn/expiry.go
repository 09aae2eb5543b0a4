package vpn

import (
	"context"
	"time"
)

// scheduleExpiry sets the one expiry timer to the earliest expiry of a device not yet ended,
// replacing the previous timer: devices leave the interface at their exact expiry time, with no
// polling. Called at start and after every change of devices.
func (s *Service) scheduleExpiry(ctx context.Context) {
	at, ok, err := nextExpiry(ctx, s.db)
	if err != nil {
		s.logger.Error("schedule vpn expiry; the next reconcile pass catches it", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopTimer != nil {
		s.stopTimer()
		s.stopTimer = nil
	}
	if !ok {
		s.timerAt = time.Time{}
		return
	}
	d := max(at.Sub(s.clock.Now()), 0)
	s.timerAt = at
	s.stopTimer = s.clock.AfterFunc(d, func() {
		select {
		case s.expired <- struct{}{}:
		default:
		}
	})
}

// NextExpiry is when the expiry timer fires next (zero when no device expires).
func (s *Service) NextExpiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timerAt
}

func (s *Service) stopExpiryTimer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopTimer != nil {
		s.stopTimer()
		s.stopTimer = nil
	}
}

// expireDue ends the devices whose expiry time has come, takes them off the interface, audits
// each, and sets the timer for the next expiry.
func (s *Service) expireDue(ctx context.Context) {
	now := s.clock.Now()
	ids, err := dueExpiries(ctx, s.db, now)
	if err != nil {
		s.logger.Error("vpn expiry", "err", err)
		return
	}
	for _, id := range ids {
		p, err := peerByID(ctx, s.db, id, now)
		if err != nil {
			s.logger.Error("vpn expiry", "peer", id, "err", err)
			continue
		}
		ended, err := endPeer(ctx, s.db, id, now, "expired")
		if err != nil {
			s.logger.Error("vpn expiry", "peer", id, "err", err)
			continue
		}
		if !ended {
			continue // revoked meanwhile
		}
		s.removeFromDevice(ctx, p)
		s.logger.Info("vpn device expired", "peer", p.ID, "name", p.Name, "expires", p.ExpiresAt)
		s.auditLog(ctx, "vpn.peer.expire", map[string]any{"peer": p.ID, "name": p.Name, "owner_id": p.OwnerID, "public_key": p.PublicKey})
	}
	s.scheduleExpiry(ctx)
}
