package auth

import (
	"context"
	"fmt"

	"github.com/rocca-pa/rocca"
)

func errBadCredentials() error {
	return rocca.Localized(rocca.EUNAUTHORIZED, "auth.error.bad_credentials", "wrong e-mail or password")
}

// authenticate checks an e-mail and password from ip. It refuses throttled attempts before looking
// at the password, records failures, and answers an unknown, disabled or password-less account
// exactly like a wrong password, after the same hashing work. Every outcome is audited.
func (s *Service) authenticate(ctx context.Context, email, password, ip string) (*account, error) {
	email = normalizeEmail(email)
	if err := s.checkThrottle(ctx, email, ip); err != nil {
		if rocca.ErrorCodeOf(err) == rocca.ERATELIMIT {
			s.auditAs(ctx, "anonymous", 0, "login.throttled", map[string]any{"email": email})
			s.logger.Warn("login throttled", "email", email, "ip", ip)
		}
		return nil, err
	}
	a, err := accountByEmail(ctx, s.db, email)
	if err != nil && rocca.ErrorCodeOf(err) != rocca.ENOTFOUND {
		return nil, err
	}
	reason := ""
	switch {
	case a == nil:
		reason = "unknown"
	case a.Disabled:
		reason = "disabled"
	case a.passwordHash == "":
		reason = "no_password"
	}
	phc := s.dummyHash
	if reason == "" {
		phc = a.passwordHash
	}
	ok, rehash, err := s.check(phc, password)
	if err != nil {
		return nil, fmt.Errorf("check password of %s: %w", email, err)
	}
	if reason == "" && !ok {
		reason = "password"
	}
	if reason != "" {
		if err := s.recordFailure(ctx, email, ip); err != nil {
			return nil, err
		}
		s.auditAs(ctx, "anonymous", 0, "login.failure", map[string]any{"email": email, "reason": reason})
		s.logger.Info("login failed", "email", email, "ip", ip, "reason", reason)
		return nil, errBadCredentials()
	}
	if rehash {
		s.upgradeHash(ctx, a, password)
	}
	if err := s.clearFailures(ctx, email); err != nil {
		return nil, err
	}
	return a, nil
}

// upgradeHash re-hashes the password with the current parameters; a failure only costs a retry at
// the next login.
func (s *Service) upgradeHash(ctx context.Context, a *account, password string) {
	hash, err := s.hash(password)
	if err == nil {
		_, err = s.db.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, hash, a.ID, a.passwordHash)
	}
	if err != nil {
		s.logger.Error("password hash upgrade failed", "email", a.Email, "err", err)
		return
	}
	s.logger.Info("password hash upgraded to current parameters", "email", a.Email)
}

// secondFactor checks a TOTP code for the account at the login step, with the same throttling and
// auditing as passwords.
func (s *Service) secondFactor(ctx context.Context, a *account, code, ip string) error {
	if err := s.checkThrottle(ctx, a.Email, ip); err != nil {
		if rocca.ErrorCodeOf(err) == rocca.ERATELIMIT {
			s.auditAs(ctx, a.Email, a.ID, "login.throttled", map[string]any{"email": a.Email, "step": "totp"})
		}
		return err
	}
	err := s.verifyTOTP(ctx, a, code)
	if rocca.ErrorCodeOf(err) == rocca.EUNAUTHORIZED {
		if err := s.recordFailure(ctx, a.Email, ip); err != nil {
			return err
		}
		s.auditAs(ctx, a.Email, a.ID, "login.failure", map[string]any{"email": a.Email, "reason": "totp"})
		return err
	}
	if err != nil {
		return err
	}
	return s.clearFailures(ctx, a.Email)
}
