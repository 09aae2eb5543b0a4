package mail

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// keySize is the AES-256 key in the key file.
const keySize = 32

// errKeyMissing means the key file is gone (for example after a restore from a backup, which
// leaves it out on purpose): the stored refresh tokens cannot be read and the accounts must be
// signed in again.
var errKeyMissing = errors.New("the key that encrypts mail sign-ins is missing")

// sealKey encrypts refresh tokens at rest with AES-GCM. The key lives in its own 0600 file outside
// the database and outside the directories a backup archives, so neither the database file nor a
// backup archive is enough to use a stored refresh token.
type sealKey struct {
	path string
}

// load reads the key; create makes one first when there is none.
func (k sealKey) load(create bool) (cipher.AEAD, error) {
	key, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key, err = k.create()
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errKeyMissing
	}
	if err != nil {
		return nil, fmt.Errorf("mail key: %w", err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("mail key %s: want %d bytes, found %d", k.path, keySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (k sealKey) create() ([]byte, error) {
	key := make([]byte, keySize)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two processes creating the key at once must not each keep a different one.
	f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(k.path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(k.path)
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return key, nil
}

// seal encrypts plain, bound to the account name so a ciphertext copied to another row is refused.
func (k sealKey) seal(account, plain string) ([]byte, error) {
	aead, err := k.load(true)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(plain), []byte("rocca mail account "+account)), nil
}

func (k sealKey) open(account string, sealed []byte) (string, error) {
	aead, err := k.load(false)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("stored sign-in is truncated")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte("rocca mail account "+account))
	if err != nil {
		// A different key (a new one after the old was lost) cannot read it.
		return "", errKeyMissing
	}
	return string(plain), nil
}
