package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/rocca-pa/rocca"
)

// PasswordParams are the argon2id cost parameters. The zero value means the production defaults
// (64 MiB, 3 passes, 2 lanes); tests pass lower ones for speed.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// defaultPasswordParams are the production argon2id parameters.
func defaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 64 * 1024, Time: 3, Threads: 2}
}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordLen is the shortest password accepted, in characters.
	MinPasswordLen = 10
	maxPasswordLen = 1024 // argon2 hashes anything, but a megabyte "password" is an attack
)

func (p PasswordParams) orDefault() PasswordParams {
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return defaultPasswordParams()
	}
	return p
}

// hashPassword returns the PHC string $argon2id$v=19$m=…,t=…,p=…$salt$hash of password.
func hashPassword(password string, p PasswordParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// parsedHash is a decoded PHC argon2id string.
type parsedHash struct {
	params PasswordParams
	salt   []byte
	key    []byte
}

func parseHash(phc string) (parsedHash, error) {
	var h parsedHash
	parts := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return h, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return h, errBadHash
	}
	// Refuse absurd costs from a tampered row rather than allocating gigabytes.
	if p.Memory == 0 || p.Memory > 4*1024*1024 || p.Time == 0 || p.Time > 100 || p.Threads == 0 {
		return h, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return h, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return h, errBadHash
	}
	return parsedHash{params: p, salt: salt, key: key}, nil
}

// checkPassword reports whether password matches the PHC string, comparing in constant time, and
// whether the hash should be recomputed because its parameters differ from want.
func checkPassword(phc, password string, want PasswordParams) (ok, rehash bool, err error) {
	h, err := parseHash(phc)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	ok = subtle.ConstantTimeCompare(key, h.key) == 1
	return ok, ok && (h.params != want || len(h.key) != keyLen), nil
}

// validatePassword checks the password policy: at least MinPasswordLen characters.
func validatePassword(password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLen {
		return rocca.Localized(rocca.EINVALID, "auth.error.password_short",
			fmt.Sprintf("the password must be at least %d characters long", MinPasswordLen), MinPasswordLen)
	}
	if len(password) > maxPasswordLen {
		return rocca.Localized(rocca.EINVALID, "auth.error.password_long",
			fmt.Sprintf("the password must be at most %d characters long", maxPasswordLen), maxPasswordLen)
	}
	return nil
}
