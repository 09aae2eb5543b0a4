package mail

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The values of mail_accounts.state.
const (
	rowNone      = "none"      // never signed in (or signed out)
	rowConnected = "connected" // a refresh token is stored
	rowRevoked   = "revoked"   // the provider refused the refresh token for good
)

// accountRow is one row of mail_accounts.
type accountRow struct {
	name, method, provider, clientID string
	state, identity, scopes          string
	refreshSealed                    []byte
	connectedAt, tokenExpiresAt      time.Time
	lastRefreshAt, lastLoginAt       time.Time
	lastError                        string
	lastErrorAt                      time.Time
}

func (s *Accounts) loadRow(ctx context.Context, name string) (*accountRow, error) {
	r := &accountRow{name: name}
	var connected, expires, refreshed, login, errAt sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT method, provider, client_id, state, identity, scopes, refresh_sealed,
		connected_at, token_expires_at, last_refresh_at, last_login_at, last_error, last_error_at
		FROM mail_accounts WHERE name = ?`, name).Scan(&r.method, &r.provider, &r.clientID, &r.state, &r.identity,
		&r.scopes, &r.refreshSealed, &connected, &expires, &refreshed, &login, &r.lastError, &errAt)
	if errors.Is(err, sql.ErrNoRows) {
		return &accountRow{name: name, state: rowNone}, nil
	}
	if err != nil {
		return nil, err
	}
	r.connectedAt, r.tokenExpiresAt = nullTime(connected), nullTime(expires)
	r.lastRefreshAt, r.lastLoginAt, r.lastErrorAt = nullTime(refreshed), nullTime(login), nullTime(errAt)
	return r, nil
}

func nullTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, _ := parseTime(s.String)
	return t
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

// ensureRow creates the row of an account with its method, so the updates below always find it.
func (s *Accounts) ensureRow(ctx context.Context, name, method string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO mail_accounts (name, method, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET method = excluded.method`, name, method, fmtTime(s.now()))
	return err
}

// saveConnected records a new sign-in: the sealed refresh token replaces any earlier one.
func (s *Accounts) saveConnected(ctx context.Context, r *accountRow) error {
	now := fmtTime(s.now())
	_, err := s.db.ExecContext(ctx, `INSERT INTO mail_accounts (name, method, provider, client_id, state, identity, scopes,
			refresh_sealed, connected_at, token_expires_at, last_refresh_at, last_error, last_error_at, updated_at)
		VALUES (?, 'oauth2', ?, ?, 'connected', ?, ?, ?, ?, ?, ?, '', NULL, ?)
		ON CONFLICT (name) DO UPDATE SET method = 'oauth2', provider = excluded.provider, client_id = excluded.client_id,
			state = 'connected', identity = excluded.identity, scopes = excluded.scopes,
			refresh_sealed = excluded.refresh_sealed, connected_at = excluded.connected_at,
			token_expires_at = excluded.token_expires_at, last_refresh_at = excluded.last_refresh_at,
			last_error = '', last_error_at = NULL, updated_at = excluded.updated_at`,
		r.name, r.provider, r.clientID, r.identity, r.scopes, r.refreshSealed, fmtTime(r.connectedAt),
		timeOrNull(r.tokenExpiresAt), timeOrNull(r.lastRefreshAt), now)
	return err
}

// saveRefreshed records a successful refresh made with the refresh token sealed as old; sealed is
// the rotated refresh token, or nil when it did not change. Nothing changes when a new sign-in
// replaced old meanwhile: the newer sign-in wins.
func (s *Accounts) saveRefreshed(ctx context.Context, name string, old, sealed []byte, expires time.Time) error {
	now := fmtTime(s.now())
	_, err := s.db.ExecContext(ctx, `UPDATE mail_accounts SET refresh_sealed = coalesce(?, refresh_sealed),
		token_expires_at = ?, last_refresh_at = ?, last_error = '', last_error_at = NULL, updated_at = ?
		WHERE name = ? AND state = 'connected' AND refresh_sealed = ?`, sealed, timeOrNull(expires), now, now, name, old)
	return err
}

// saveRevoked forgets the refresh token (sealed as old) that the provider refused for good, and
// keeps the reason; a newer sign-in made meanwhile is left alone.
func (s *Accounts) saveRevoked(ctx context.Context, name string, old []byte, reason string) error {
	now := fmtTime(s.now())
	_, err := s.db.ExecContext(ctx, `UPDATE mail_accounts SET state = 'revoked', refresh_sealed = NULL,
		last_error = ?, last_error_at = ?, updated_at = ? WHERE name = ? AND refresh_sealed = ?`,
		clip(reason), now, now, name, old)
	return err
}

// saveDisconnected forgets the sign-in at the admin's request.
func (s *Accounts) saveDisconnected(ctx context.Context, name string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE mail_accounts SET state = 'none', refresh_sealed = NULL, identity = '',
		scopes = '', token_expires_at = NULL, last_error = '', last_error_at = NULL, updated_at = ? WHERE name = ?`,
		fmtTime(s.now()), name)
	return err
}

// saveLogin records the outcome of an IMAP/SMTP login: the time of a success, or the error.
func (s *Accounts) saveLogin(ctx context.Context, name string, loginErr error) error {
	now := fmtTime(s.now())
	var err error
	if loginErr == nil {
		_, err = s.db.ExecContext(ctx, `UPDATE mail_accounts SET last_login_at = ?, last_error = '', last_error_at = NULL,
			updated_at = ? WHERE name = ?`, now, now, name)
	} else {
		_, err = s.db.ExecContext(ctx, `UPDATE mail_accounts SET last_error = ?, last_error_at = ?, updated_at = ? WHERE name = ?`,
			clip(loginErr.Error()), now, now, name)
	}
	return err
}
