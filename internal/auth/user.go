package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// NewUser is what CreateUser needs.
type NewUser struct {
	Email    string
	Name     string
	Role     rocca.Role
	Password string // "" = no password yet: give the user a set-password link (PasswordLink)
	Language string // "it", "en" or "" for the browser's choice
}

// account is a users row with the secrets the rocca.User leaves out.
type account struct {
	rocca.User
	passwordHash string
	totpSecret   string
	totpPending  string
	totpLastStep int64
}

const userColumns = `id, email, name, role, language, password_hash, disabled, totp_secret, totp_pending, totp_last_step, created_at`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(row scanner) (*account, error) {
	var a account
	var role string
	var created int64
	if err := row.Scan(&a.ID, &a.Email, &a.Name, &role, &a.Language, &a.passwordHash, &a.Disabled,
		&a.totpSecret, &a.totpPending, &a.totpLastStep, &created); err != nil {
		return nil, err
	}
	a.Role = rocca.Role(role)
	a.TOTP = a.totpSecret != ""
	a.CreatedAt = fromUnix(created)
	return &a, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func accountByEmail(ctx context.Context, q querier, email string) (*account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, normalizeEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rocca.Localized(rocca.ENOTFOUND, "auth.error.user_not_found", "no user with e-mail "+email, email)
	}
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", email, err)
	}
	return a, nil
}

func accountByID(ctx context.Context, q querier, id int64) (*account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rocca.Localized(rocca.ENOTFOUND, "auth.error.user_id_not_found", fmt.Sprintf("no user with id %d", id), id)
	}
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return a, nil
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func validateEmail(email string) error {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		return rocca.Localized(rocca.EINVALID, "auth.error.email_invalid", "the e-mail address "+email+" is not valid", email)
	}
	return nil
}

func validateName(name string) error {
	if name == "" {
		return rocca.Localized(rocca.EINVALID, "auth.error.name_missing", "the name is missing")
	}
	if utf8.RuneCountInString(name) > 200 || strings.ContainsAny(name, "\r\n\x00") {
		return rocca.Localized(rocca.EINVALID, "auth.error.name_invalid", "the name is too long or contains line breaks")
	}
	return nil
}

func validateRole(r rocca.Role) error {
	if !r.Valid() {
		return rocca.Localized(rocca.EINVALID, "auth.error.role_invalid",
			"the role "+string(r)+" does not exist: use admin, agent, staff or councillor", string(r))
	}
	return nil
}

func validateLanguage(lang string) error {
	if lang != "" && lang != "it" && lang != "en" {
		return rocca.Localized(rocca.EINVALID, "auth.error.language_invalid", "the language must be it or en")
	}
	return nil
}

// CreateUser adds a user. Errors: EINVALID for a bad e-mail, name, role, language or a weak password;
// ECONFLICT when the e-mail (in any case) exists already.
func (s *Service) CreateUser(ctx context.Context, u NewUser) (*rocca.User, error) {
	u, hash, err := s.prepareUser(u)
	if err != nil {
		return nil, err
	}
	created, err := insertUser(ctx, s.db, u, hash, s.now())
	if err != nil {
		return nil, err
	}
	s.Audit(ctx, "user.create", map[string]any{"email": created.Email, "role": string(created.Role), "with_password": hash != ""})
	return created, nil
}

// prepareUser normalises and validates u and hashes its password, if any, outside any transaction:
// hashing is slow on purpose.
func (s *Service) prepareUser(u NewUser) (NewUser, string, error) {
	u.Email = normalizeEmail(u.Email)
	u.Name = strings.TrimSpace(u.Name)
	for _, err := range []error{validateEmail(u.Email), validateName(u.Name), validateRole(u.Role), validateLanguage(u.Language)} {
		if err != nil {
			return u, "", err
		}
	}
	if u.Password == "" {
		return u, "", nil
	}
	if err := validatePassword(u.Password); err != nil {
		return u, "", err
	}
	hash, err := s.hash(u.Password)
	return u, hash, err
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertUser stores a prepared user.
func insertUser(ctx context.Context, db execer, u NewUser, hash string, now time.Time) (*rocca.User, error) {
	res, err := db.ExecContext(ctx, `INSERT INTO users (email, name, role, language, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.Email, u.Name, string(u.Role), u.Language, hash, unix(now), unix(now))
	if sqlite.IsUniqueViolation(err) {
		return nil, rocca.Localized(rocca.ECONFLICT, "auth.error.email_taken", "a user with e-mail "+u.Email+" exists already", u.Email)
	}
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return &rocca.User{ID: id, Email: u.Email, Name: u.Name, Role: u.Role, Language: u.Language, CreatedAt: fromUnix(unix(now))}, nil
}

// Users returns every user, enabled first, by name.
func (s *Service) Users(ctx context.Context) ([]*rocca.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY disabled, name COLLATE NOCASE, email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []*rocca.User
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, &a.User)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// UserByEmail returns the user with that e-mail (any case), or ENOTFOUND.
func (s *Service) UserByEmail(ctx context.Context, email string) (*rocca.User, error) {
	a, err := accountByEmail(ctx, s.db, email)
	if err != nil {
		return nil, err
	}
	return &a.User, nil
}

// UserByID returns the user with that id, or ENOTFOUND.
func (s *Service) UserByID(ctx context.Context, id int64) (*rocca.User, error) {
	a, err := accountByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return &a.User, nil
}

// SetPassword sets the user's password and ends all of the user's sessions and unused set-password
// links.
func (s *Service) SetPassword(ctx context.Context, email, password string) error {
	if err := validatePassword(password); err != nil {
		return err
	}
	a, err := accountByEmail(ctx, s.db, email)
	if err != nil {
		return err
	}
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if err := storePassword(ctx, tx, a.ID, hash, unix(s.now())); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM setup_tokens WHERE user_id = ? AND used_at = 0`, a.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE user_id = ?`, a.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", a.Email, err)
	}
	s.Audit(ctx, "user.password_set", map[string]any{"email": a.Email})
	return nil
}

func storePassword(ctx context.Context, tx *sql.Tx, id int64, hash string, now int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, now, id)
	return err
}

// DisableUser stops the user from signing in: it ends the user's sessions and revokes the user's
// API tokens. The last enabled admin cannot be disabled (ECONFLICT).
func (s *Service) DisableUser(ctx context.Context, email string) error {
	var target string
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		a, err := accountByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		target = a.Email
		if a.Role == rocca.RoleAdmin && !a.Disabled {
			if err := keepOneAdmin(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 1, updated_at = ? WHERE id = ?`, unix(s.now()), a.ID); err != nil {
			return fmt.Errorf("disable user %s: %w", a.Email, err)
		}
		return revokeAccess(ctx, tx, a.ID)
	})
	if err != nil {
		return err
	}
	s.Audit(ctx, "user.disable", map[string]any{"email": target})
	return nil
}

// revokeAccess ends every session, API token and unused link of the user.
func revokeAccess(ctx context.Context, tx *sql.Tx, userID int64) error {
	for _, q := range []string{
		`DELETE FROM auth_sessions WHERE user_id = ?`,
		`DELETE FROM api_tokens WHERE user_id = ?`,
		`DELETE FROM setup_tokens WHERE user_id = ? AND used_at = 0`,
	} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return fmt.Errorf("revoke access: %w", err)
		}
	}
	return nil
}

// EnableUser lets a disabled user sign in again.
func (s *Service) EnableUser(ctx context.Context, email string) error {
	a, err := accountByEmail(ctx, s.db, email)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET disabled = 0, updated_at = ? WHERE id = ?`, unix(s.now()), a.ID); err != nil {
		return fmt.Errorf("enable user %s: %w", a.Email, err)
	}
	s.Audit(ctx, "user.enable", map[string]any{"email": a.Email})
	return nil
}

// SetRole changes the user's role. Taking the role from the last enabled admin is refused
// (ECONFLICT): someone must always be able to administer the server.
func (s *Service) SetRole(ctx context.Context, email string, role rocca.Role) error {
	if err := validateRole(role); err != nil {
		return err
	}
	var a *account
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = accountByEmail(ctx, tx, email); err != nil {
			return err
		}
		if a.Role == rocca.RoleAdmin && role != rocca.RoleAdmin && !a.Disabled {
			if err := keepOneAdmin(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, string(role), unix(s.now()), a.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set role: %w", err)
	}
	s.Audit(ctx, "user.role", map[string]any{"email": a.Email, "from": string(a.Role), "to": string(role)})
	return nil
}

// keepOneAdmin fails unless an enabled admin other than id exists.
func keepOneAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id != ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n == 0 {
		return rocca.Localized(rocca.ECONFLICT, "auth.error.last_admin", "this is the last enabled administrator: add another one first")
	}
	return nil
}

// SetProfile changes the user's own name and language preference ("it", "en" or "").
func (s *Service) SetProfile(ctx context.Context, id int64, name, language string) error {
	name = strings.TrimSpace(name)
	if err := validateName(name); err != nil {
		return err
	}
	if err := validateLanguage(language); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET name = ?, language = ?, updated_at = ? WHERE id = ?`, name, language, unix(s.now()), id)
	if err != nil {
		return fmt.Errorf("set profile: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return rocca.Localized(rocca.ENOTFOUND, "auth.error.user_id_not_found", fmt.Sprintf("no user with id %d", id), id)
	}
	return nil
}

// adminExists reports whether an enabled admin exists.
func adminExists(ctx context.Context, q querier) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n); err != nil {
		return false, fmt.Errorf("count admins: %w", err)
	}
	return n > 0, nil
}
