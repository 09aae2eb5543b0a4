package auth

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/rocca-pa/rocca"
)

// throttleError carries, under the ERATELIMIT rocca.Error, how long the client must wait.
type throttleError struct{ retryAfter time.Duration }

func (e *throttleError) Error() string { return fmt.Sprintf("retry after %s", e.retryAfter) }

// checkThrottle refuses an attempt when the account or the IP address has too many recent
// failures. The wait ends when enough failures have left the window to go below the limit.
func (s *Service) checkThrottle(ctx context.Context, email, ip string) error {
	now := s.now()
	since := unix(now.Add(-s.opts.Throttle.Window))
	var until time.Time
	for _, c := range []struct {
		column, value string
		limit         int
	}{
		{"email", normalizeEmail(email), s.opts.Throttle.PerAccount},
		{"ip", ip, s.opts.Throttle.PerIP},
	} {
		if c.value == "" {
			continue
		}
		var at int64
		// With n failures in the window, the wait ends when the (n-limit+1)-th oldest expires.
		err := s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT at FROM login_failures WHERE `+c.column+` = ? AND at > ?
			ORDER BY at DESC LIMIT 1 OFFSET ?), 0)`, c.value, since, c.limit-1).Scan(&at)
		if err != nil {
			return fmt.Errorf("check login throttle: %w", err)
		}
		if at > 0 {
			if t := fromUnix(at).Add(s.opts.Throttle.Window); t.After(until) {
				until = t
			}
		}
	}
	if until.IsZero() {
		return nil
	}
	wait := until.Sub(now)
	minutes := int(math.Ceil(wait.Minutes()))
	if minutes < 1 {
		minutes = 1
	}
	e := rocca.Localized(rocca.ERATELIMIT, "auth.error.throttled",
		fmt.Sprintf("too many failed sign-in attempts: try again in %d minutes", minutes), minutes)
	e.Err = &throttleError{retryAfter: wait}
	return e
}

// recordFailure stores a failed attempt; failures survive a restart.
func (s *Service) recordFailure(ctx context.Context, email, ip string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO login_failures (at, email, ip) VALUES (?, ?, ?)`,
		unix(s.now()), normalizeEmail(email), ip); err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// clearFailures forgets the account's failures after a successful login. The rows stay, without the
// account, so they still count for their IP address: one right password must not unlock guessing at
// other accounts from the same address.
func (s *Service) clearFailures(ctx context.Context, email string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE login_failures SET email = '' WHERE email = ?`, normalizeEmail(email)); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
