package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
)

// tokenPrefix marks Rocca API tokens, so secret scanners and people recognise them.
const tokenPrefix = "rocca_"

// Token is an API token as listed; the secret itself is shown only once, by CreateToken.
type Token struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	Scopes     []string  `json:"scopes"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"` // zero = never
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Expired reports whether the token has expired at now.
func (t Token) Expired(now time.Time) bool { return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) }

// Scopes lists the scopes a token may carry. A token authenticates only under /api/<scope>/ for its
// scopes; "admin" covers every API path (the user's role is still checked).
func Scopes() []string { return []string{"admin", "vpn", "helpdesk", "meetings"} }

// CreateToken creates an API token for the user and returns it; only its hash is stored, so this is
// the one time it can be shown. ttl <= 0 means it never expires.
func (s *Service) CreateToken(ctx context.Context, email, name string, scopes []string, ttl time.Duration) (string, error) {
	name = strings.TrimSpace(name)
	if err := validateName(name); err != nil {
		return "", err
	}
	if len(scopes) == 0 {
		return "", rocca.Localized(rocca.EINVALID, "auth.error.scope_missing", "choose at least one scope")
	}
	for _, sc := range scopes {
		if !slices.Contains(Scopes(), sc) {
			return "", rocca.Localized(rocca.EINVALID, "auth.error.scope_invalid", "unknown scope "+sc, sc)
		}
	}
	a, err := accountByEmail(ctx, s.db, email)
	if err != nil {
		return "", err
	}
	if a.Disabled {
		return "", rocca.Localized(rocca.ECONFLICT, "auth.error.user_disabled", "the user "+a.Email+" is disabled", a.Email)
	}
	raw := tokenPrefix + randomToken()
	now := s.now()
	var expires int64
	if ttl > 0 {
		expires = unix(now.Add(ttl))
	}
	scopes = slices.Compact(slices.Sorted(slices.Values(scopes)))
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (hash, user_id, name, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		tokenHash(raw), a.ID, name, strings.Join(scopes, " "), unix(now), expires)
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	id, _ := res.LastInsertId()
	detail := map[string]any{"id": id, "email": a.Email, "name": name, "scopes": scopes, "expires": "never"}
	if expires > 0 {
		detail["expires"] = fromUnix(expires)
	}
	s.Audit(ctx, "token.create", detail)
	return raw, nil
}

// RevokeToken deletes the token with that id (ENOTFOUND if there is none).
func (s *Service) RevokeToken(ctx context.Context, id int64) error {
	var t *Token
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = scanToken(tx.QueryRowContext(ctx, tokenQuery+` WHERE t.id = ?`, id)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return rocca.Localized(rocca.ENOTFOUND, "auth.error.token_not_found", fmt.Sprintf("no API token with id %d", id), id)
	}
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	s.Audit(ctx, "token.revoke", map[string]any{"id": id, "email": t.Email, "name": t.Name})
	return nil
}

const tokenQuery = `SELECT t.id, t.user_id, u.email, t.name, t.scopes, t.created_at, t.expires_at, t.last_used_at
	FROM api_tokens t JOIN users u ON u.id = t.user_id`

func scanToken(row scanner) (*Token, error) {
	var t Token
	var scopes string
	var created, expires, used int64
	if err := row.Scan(&t.ID, &t.UserID, &t.Email, &t.Name, &scopes, &created, &expires, &used); err != nil {
		return nil, err
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = fromUnix(created), fromUnix(expires), fromUnix(used)
	return &t, nil
}

// Tokens lists the API tokens of the user with that e-mail, or of every user when email is "",
// newest first.
func (s *Service) Tokens(ctx context.Context, email string) ([]Token, error) {
	q, args := tokenQuery, []any{}
	if email != "" {
		q += ` WHERE u.email = ?`
		args = append(args, normalizeEmail(email))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY t.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var tokens []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		tokens = append(tokens, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return tokens, nil
}

// lookupToken returns the live token named by raw and its account, or nils when it is unknown or
// expired, and notes when it was last used.
func (s *Service) lookupToken(ctx context.Context, raw string) (*Token, *account, error) {
	if !strings.HasPrefix(raw, tokenPrefix) {
		return nil, nil, nil
	}
	t, err := scanToken(s.db.QueryRowContext(ctx, tokenQuery+` WHERE t.hash = ?`, tokenHash(raw)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up token: %w", err)
	}
	now := s.now()
	if t.Expired(now) {
		return nil, nil, nil
	}
	a, err := accountByID(ctx, s.db, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	if now.Sub(t.LastUsedAt) >= slideEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, unix(now), t.ID); err != nil {
			return nil, nil, fmt.Errorf("note token use: %w", err)
		}
	}
	return t, a, nil
}
