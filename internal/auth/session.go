package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// session is an auth_sessions row. The raw id lives only in the user's cookie.
type session struct {
	id           int64
	userID       int64
	created      time.Time
	lastSeen     time.Time
	expires      time.Time
	ip           string
	userAgent    string
	secondFactor bool
}

// slideEvery limits how often a busy session's expiry is pushed forward, to spare writes.
const slideEvery = time.Minute

// createSession stores a new session for the user and returns the raw id for the cookie. When
// replace is not empty the session it names is deleted in the same transaction, so a login rotates
// the id instead of upgrading an id an attacker may have planted.
func (s *Service) createSession(ctx context.Context, userID int64, ip, userAgent string, secondFactor bool, replace string) (string, error) {
	raw := randomToken()
	now := s.now()
	if len(userAgent) > 256 {
		userAgent = userAgent[:256]
	}
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if replace != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE hash = ?`, tokenHash(replace)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (hash, user_id, created_at, last_seen, expires_at, ip, user_agent, second_factor)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			tokenHash(raw), userID, unix(now), unix(now), unix(now.Add(s.opts.SessionTTL)), ip, userAgent, secondFactor)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return raw, nil
}

// lookupSession returns the live session named by raw and its account, pushing its expiry forward.
// It returns nil, nil, nil for an unknown or expired session.
func (s *Service) lookupSession(ctx context.Context, raw string) (*session, *account, error) {
	if raw == "" {
		return nil, nil, nil
	}
	var se session
	var created, seen, expires int64
	err := s.db.QueryRowContext(ctx, `SELECT id, user_id, created_at, last_seen, expires_at, ip, user_agent, second_factor
		FROM auth_sessions WHERE hash = ?`, tokenHash(raw)).
		Scan(&se.id, &se.userID, &created, &seen, &expires, &se.ip, &se.userAgent, &se.secondFactor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up session: %w", err)
	}
	se.created, se.lastSeen, se.expires = fromUnix(created), fromUnix(seen), fromUnix(expires)
	now := s.now()
	if !now.Before(se.expires) {
		return nil, nil, nil
	}
	a, err := accountByID(ctx, s.db, se.userID)
	if err != nil {
		return nil, nil, err
	}
	if now.Sub(se.lastSeen) >= slideEvery {
		se.lastSeen, se.expires = now, now.Add(s.opts.SessionTTL)
		if _, err := s.db.ExecContext(ctx, `UPDATE auth_sessions SET last_seen = ?, expires_at = ? WHERE id = ?`,
			unix(se.lastSeen), unix(se.expires), se.id); err != nil {
			return nil, nil, fmt.Errorf("renew session: %w", err)
		}
	}
	return &se, a, nil
}

// deleteSession ends the session named by raw, if any.
func (s *Service) deleteSession(ctx context.Context, raw string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE hash = ?`, tokenHash(raw)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// PurgeExpired deletes expired sessions, expired one-time links and login failures older than the
// throttling window. cmd/rocca runs it hourly.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.now()
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM auth_sessions WHERE expires_at <= ?`, unix(now)},
		{`DELETE FROM setup_tokens WHERE expires_at <= ?`, unix(now)},
		{`DELETE FROM login_failures WHERE at <= ?`, unix(now.Add(-s.opts.Throttle.Window))},
	} {
		if _, err := s.db.ExecContext(ctx, q.sql, q.arg); err != nil {
			return fmt.Errorf("purge expired: %w", err)
		}
	}
	return nil
}

// markSecondFactor records that the session passed the TOTP step (at enrolment).
func (s *Service) markSecondFactor(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE auth_sessions SET second_factor = 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("mark session: %w", err)
	}
	return nil
}
