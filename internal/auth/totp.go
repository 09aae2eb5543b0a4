package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
)

// TOTP per RFC 6238 with the parameters every authenticator app supports: HMAC-SHA-1, 6 digits,
// 30-second steps, and one step of clock drift either way.
const (
	totpPeriod = 30
	totpDigits = 6
	totpSkew   = 1
)

// b32 is the unpadded base32 that otpauth URIs use.
func b32() *base32.Encoding { return base32.StdEncoding.WithPadding(base32.NoPadding) }

// newTOTPSecret returns 160 random bits in base32, the form users type into their app.
func newTOTPSecret() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b32().EncodeToString(b)
}

// totpCode is the RFC 4226 HOTP value of key at counter step, as 6 digits.
func totpCode(key []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// matchTOTP returns the time step whose code equals code, if any, later than after.
func matchTOTP(secret, code string, now time.Time, after int64) (int64, bool) {
	key, err := b32().DecodeString(strings.ToUpper(secret))
	if err != nil {
		return 0, false
	}
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		if step > after && hmac.Equal([]byte(totpCode(key, step)), []byte(code)) {
			return step, true
		}
	}
	return 0, false
}

// totpURI is the otpauth:// link authenticator apps read from the QR code.
func (s *Service) totpURI(email, secret string) string {
	issuer := "Rocca"
	if s.opts.Municipality != "" {
		issuer = "Rocca " + s.opts.Municipality
	}
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	return "otpauth://totp/" + url.PathEscape(issuer+":"+email) + "?" + q.Encode()
}

// sealSecret encrypts a TOTP secret for storage when a key is configured.
func (s *Service) sealSecret(secret string) (string, error) {
	if len(s.opts.SecretKey) == 0 {
		return "plain:" + secret, nil
	}
	gcm, err := s.gcm()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return "gcm:" + base64.RawStdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), nil)), nil
}

// openSecret reverses sealSecret.
func (s *Service) openSecret(stored string) (string, error) {
	if v, ok := strings.CutPrefix(stored, "plain:"); ok {
		return v, nil
	}
	v, ok := strings.CutPrefix(stored, "gcm:")
	if !ok {
		return "", errors.New("unknown TOTP secret format")
	}
	if len(s.opts.SecretKey) == 0 {
		return "", errors.New("TOTP secret is encrypted but no secret key is configured")
	}
	gcm, err := s.gcm()
	if err != nil {
		return "", err
	}
	box, err := base64.RawStdEncoding.DecodeString(v)
	if err != nil || len(box) < gcm.NonceSize() {
		return "", errors.New("malformed TOTP secret")
	}
	plain, err := gcm.Open(nil, box[:gcm.NonceSize()], box[gcm.NonceSize():], nil)
	if err != nil {
		return "", errors.New("TOTP secret does not open with the configured key")
	}
	return string(plain), nil
}

func (s *Service) gcm() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.opts.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("totp key: %w", err)
	}
	return cipher.NewGCM(block)
}

func errBadCode() error {
	return rocca.Localized(rocca.EUNAUTHORIZED, "auth.error.totp_bad_code", "the code is wrong or was used already")
}

// StartTOTP begins enrolment for the user: it stores a new pending secret (replacing any earlier
// pending one) and returns it with its otpauth:// URI. It takes effect only after ConfirmTOTP.
func (s *Service) StartTOTP(ctx context.Context, userID int64) (secret, uri string, err error) {
	a, err := accountByID(ctx, s.db, userID)
	if err != nil {
		return "", "", err
	}
	secret = newTOTPSecret()
	sealed, err := s.sealSecret(secret)
	if err != nil {
		return "", "", fmt.Errorf("start totp: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET totp_pending = ?, updated_at = ? WHERE id = ?`, sealed, unix(s.now()), a.ID); err != nil {
		return "", "", fmt.Errorf("start totp: %w", err)
	}
	return secret, s.totpURI(a.Email, secret), nil
}

// PendingTOTP returns the secret and URI of an enrolment in progress, or "" when there is none.
func (s *Service) PendingTOTP(ctx context.Context, userID int64) (secret, uri string, err error) {
	a, err := accountByID(ctx, s.db, userID)
	if err != nil || a.totpPending == "" {
		return "", "", err
	}
	if secret, err = s.openSecret(a.totpPending); err != nil {
		return "", "", fmt.Errorf("pending totp: %w", err)
	}
	return secret, s.totpURI(a.Email, secret), nil
}

// ConfirmTOTP completes enrolment when code matches the pending secret. From then on every login
// of the user asks for a code.
func (s *Service) ConfirmTOTP(ctx context.Context, userID int64, code string) error {
	a, err := accountByID(ctx, s.db, userID)
	if err != nil {
		return err
	}
	if a.totpPending == "" {
		return rocca.Localized(rocca.ECONFLICT, "auth.error.totp_not_started", "start the enrolment first")
	}
	secret, err := s.openSecret(a.totpPending)
	if err != nil {
		return fmt.Errorf("confirm totp: %w", err)
	}
	step, ok := matchTOTP(secret, code, s.now(), 0)
	if !ok {
		return errBadCode()
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_last_step = ?, updated_at = ?
		WHERE id = ? AND totp_pending = ?`, step, unix(s.now()), a.ID, a.totpPending)
	if err != nil {
		return fmt.Errorf("confirm totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return rocca.Localized(rocca.ECONFLICT, "auth.error.totp_not_started", "start the enrolment first")
	}
	s.Audit(ctx, "totp.enrol", map[string]any{"email": a.Email})
	return nil
}

// verifyTOTP checks code against the user's enrolled secret. Each code is accepted once: the
// accepted step is recorded and only later steps pass afterwards, atomically.
func (s *Service) verifyTOTP(ctx context.Context, a *account, code string) error {
	secret, err := s.openSecret(a.totpSecret)
	if err != nil {
		return fmt.Errorf("verify totp: %w", err)
	}
	step, ok := matchTOTP(secret, code, s.now(), a.totpLastStep)
	if !ok {
		return errBadCode()
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, a.ID, step)
	if err != nil {
		return fmt.Errorf("verify totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errBadCode() // a concurrent request used this code first
	}
	return nil
}

// DisableTOTP removes the user's own second factor after checking a current code. Admins cannot:
// for them the second factor is mandatory once enrolled (another admin or the CLI uses ResetTOTP).
func (s *Service) DisableTOTP(ctx context.Context, userID int64, code string) error {
	a, err := accountByID(ctx, s.db, userID)
	if err != nil {
		return err
	}
	if a.Role == rocca.RoleAdmin {
		return rocca.Localized(rocca.EFORBIDDEN, "auth.error.totp_admin_mandatory", "administrators must keep the second factor")
	}
	if !a.TOTP {
		return nil
	}
	// Throttled like a login: a stolen session must not be able to guess its way out of the code.
	if err := s.secondFactor(ctx, a, code, remoteIPFrom(ctx)); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET totp_secret = '', totp_pending = '', totp_last_step = 0, updated_at = ? WHERE id = ?`,
		unix(s.now()), a.ID); err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	s.Audit(ctx, "totp.disable", map[string]any{"email": a.Email})
	return nil
}

// ResetTOTP removes the user's second factor, for a lost phone; the user may enrol again.
func (s *Service) ResetTOTP(ctx context.Context, email string) error {
	a, err := accountByEmail(ctx, s.db, email)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET totp_secret = '', totp_pending = '', totp_last_step = 0, updated_at = ? WHERE id = ?`,
		unix(s.now()), a.ID); err != nil {
		return fmt.Errorf("reset totp: %w", err)
	}
	s.Audit(ctx, "totp.reset", map[string]any{"email": a.Email})
	return nil
}
