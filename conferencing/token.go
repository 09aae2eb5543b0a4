package conferencing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
)

// Join tokens let a browser open the signalling WebSocket as one participant of one meeting. They
// are "v1.<meeting>.<participant>.<expiry>.<mac>" with mac = HMAC-SHA256(key, the rest): readable,
// unforgeable without the key, short-lived. The key lives in a file so tokens survive a restart
// and clients reconnect by themselves.
const tokenVersion = "v1"

type tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// loadOrCreateKey returns the 32-byte key in path, creating the file (0600, directory 0700) with a
// random key the first time.
func loadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != 32 {
			return nil, fmt.Errorf("join token key %s: %d bytes, want 32", path, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("join token key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("join token key: %w", err)
	}
	key = make([]byte, 32)
	rand.Read(key)
	// O_EXCL: two processes starting at once must not each write a different key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("join token key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("join token key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("join token key %s: %w", path, err)
	}
	return key, nil
}

// issue returns a token for participant pid of meeting mid.
func (t *tokens) issue(mid, pid string) string {
	body := tokenVersion + "." + mid + "." + pid + "." + strconv.FormatInt(t.now().Add(t.ttl).Unix(), 10)
	return body + "." + t.mac(body)
}

func (t *tokens) mac(body string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("rocca conf join\x00"))
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verify checks a token for meeting mid and returns the participant id. A token that was not made
// with our key, or for another meeting, is invalid; a genuine one past its expiry is gone.
func (t *tokens) verify(token, mid string) (string, error) {
	bad := rocca.Localized(rocca.EUNAUTHORIZED, "conf.error.token_invalid", "join token invalid")
	if len(token) > 256 {
		return "", bad
	}
	parts := strings.Split(token, ".")
	if len(parts) != 5 || parts[0] != tokenVersion {
		return "", bad
	}
	body := strings.Join(parts[:4], ".")
	if !hmac.Equal([]byte(t.mac(body)), []byte(parts[4])) {
		return "", bad
	}
	if parts[1] != mid {
		return "", bad
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return "", bad
	}
	if t.now().Unix() > exp {
		return "", rocca.Localized(rocca.EGONE, "conf.error.token_expired", "join token expired")
	}
	return parts[2], nil
}

// randomID returns n random bytes as lowercase base32 without padding: URL- and token-safe.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
