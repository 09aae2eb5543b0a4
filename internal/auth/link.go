package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rocca-pa/rocca"
)

// One-time links: the first-run setup link, which creates the first admin, and set-password links
// for users created without a password (or who forgot theirs). Only the SHA-256 of the token is
// stored; a link works once, until it expires.
const (
	setupLinkTTL    = 24 * time.Hour
	passwordLinkTTL = 7 * 24 * time.Hour

	purposeSetup    = "setup"
	purposePassword = "password"
)

// SetupLink returns a fresh first-run link, PublicURL+"/setup/"+token, while no enabled admin
// exists; earlier unused setup links stop working. Once an admin exists it returns "". cmd/rocca
// calls it at every start and prints the link.
func (s *Service) SetupLink(ctx context.Context) (string, error) {
	raw := randomToken()
	created := false
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		exists, err := adminExists(ctx, tx)
		if err != nil || exists {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM setup_tokens WHERE purpose = 'setup' AND used_at = 0`); err != nil {
			return err
		}
		if err := insertLink(ctx, tx, raw, purposeSetup, nil, s.now(), setupLinkTTL); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("setup link: %w", err)
	}
	if !created {
		return "", nil
	}
	s.auditAs(ctx, "system", 0, "setup.link", map[string]any{"expires": s.now().Add(setupLinkTTL).UTC()})
	return s.opts.PublicURL + "/setup/" + raw, nil
}

// PasswordLink returns a one-time link, PublicURL+"/password/"+token, with which the user sets a
// password within 7 days; it replaces the user's earlier unused links.
func (s *Service) PasswordLink(ctx context.Context, email string) (string, error) {
	a, err := accountByEmail(ctx, s.db, email)
	if err != nil {
		return "", err
	}
	if a.Disabled {
		return "", rocca.Localized(rocca.ECONFLICT, "auth.error.user_disabled", "the user "+a.Email+" is disabled", a.Email)
	}
	raw := randomToken()
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM setup_tokens WHERE user_id = ? AND used_at = 0`, a.ID); err != nil {
			return err
		}
		return insertLink(ctx, tx, raw, purposePassword, &a.ID, s.now(), passwordLinkTTL)
	})
	if err != nil {
		return "", fmt.Errorf("password link: %w", err)
	}
	s.Audit(ctx, "user.password_link", map[string]any{"email": a.Email})
	return s.opts.PublicURL + "/password/" + raw, nil
}

func insertLink(ctx context.Context, tx *sql.Tx, raw, purpose string, userID *int64, now time.Time, ttl time.Duration) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO setup_tokens (hash, purpose, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		tokenHash(raw), purpose, userID, unix(now), unix(now.Add(ttl)))
	return err
}

// link is a live setup_tokens row.
type link struct {
	id     int64
	userID int64
}

// useLink marks the link named by raw used and returns it, or EGONE when it is unknown, used,
// expired or for another purpose.
func useLink(ctx context.Context, tx *sql.Tx, raw, purpose string, now time.Time) (*link, error) {
	var l link
	var uid sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT id, user_id FROM setup_tokens WHERE hash = ? AND purpose = ? AND used_at = 0 AND expires_at > ?`,
		tokenHash(raw), purpose, unix(now)).Scan(&l.id, &uid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, linkGone(purpose)
	}
	if err != nil {
		return nil, err
	}
	l.userID = uid.Int64
	if _, err := tx.ExecContext(ctx, `UPDATE setup_tokens SET used_at = ? WHERE id = ?`, unix(now), l.id); err != nil {
		return nil, err
	}
	return &l, nil
}

func linkGone(purpose string) error {
	if purpose == purposeSetup {
		return rocca.Localized(rocca.EGONE, "auth.setup.gone", "this link was used already or has expired: restart the server to get a new one")
	}
	return rocca.Localized(rocca.EGONE, "auth.password_link.gone", "this link was used already or has expired: ask your administrator for a new one")
}

// checkLink reports EGONE unless raw names a live link for purpose; it changes nothing.
func (s *Service) checkLink(ctx context.Context, raw, purpose string) error {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM setup_tokens WHERE hash = ? AND purpose = ? AND used_at = 0 AND expires_at > ?`,
		tokenHash(raw), purpose, unix(s.now())).Scan(&n)
	if err != nil {
		return fmt.Errorf("check link: %w", err)
	}
	if n == 0 {
		return linkGone(purpose)
	}
	if purpose == purposeSetup {
		exists, err := adminExists(ctx, s.db)
		if err != nil {
			return err
		}
		if exists {
			return linkGone(purpose)
		}
	}
	return nil
}

// completeSetup uses the setup link raw to create the first admin.
func (s *Service) completeSetup(ctx context.Context, raw string, u NewUser) (*rocca.User, error) {
	u.Role = rocca.RoleAdmin
	if err := validatePassword(u.Password); err != nil {
		return nil, err
	}
	if err := s.checkLink(ctx, raw, purposeSetup); err != nil {
		return nil, err // before hashing: a dead link costs no argon2 time
	}
	u, hash, err := s.prepareUser(u)
	if err != nil {
		return nil, err
	}
	var created *rocca.User
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := useLink(ctx, tx, raw, purposeSetup, s.now()); err != nil {
			return err
		}
		exists, err := adminExists(ctx, tx)
		if err != nil {
			return err
		}
		if exists {
			return linkGone(purposeSetup)
		}
		created, err = insertUser(ctx, tx, u, hash, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	s.auditAs(ctx, created.Email, created.ID, "setup.complete", map[string]any{"email": created.Email})
	return created, nil
}

// usePasswordLink sets the password of the link's user and ends the user's sessions.
func (s *Service) usePasswordLink(ctx context.Context, raw, password string) (*account, error) {
	if err := validatePassword(password); err != nil {
		return nil, err
	}
	hash, err := s.hash(password)
	if err != nil {
		return nil, err
	}
	var a *account
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		l, err := useLink(ctx, tx, raw, purposePassword, s.now())
		if err != nil {
			return err
		}
		if a, err = accountByID(ctx, tx, l.userID); err != nil {
			return err
		}
		if a.Disabled {
			return linkGone(purposePassword)
		}
		if err := storePassword(ctx, tx, a.ID, hash, unix(s.now())); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE user_id = ?`, a.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.auditAs(ctx, a.Email, a.ID, "user.password_set", map[string]any{"email": a.Email, "via": "link"})
	return a, nil
}
