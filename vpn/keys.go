package vpn

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rocca-pa/rocca"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// ParseKey parses a WireGuard key as people paste it: 44 characters of standard base64 (ending in
// "=") for 32 bytes, surrounding spaces ignored. The all-zero key, which WireGuard treats as "no
// key", is refused. Every failure is a user error that says what a key looks like.
func ParseKey(s string) (wgtypes.Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return wgtypes.Key{}, rocca.Localized(rocca.EINVALID, "vpn.error.key_missing", "the public key is empty: paste the public key shown by the WireGuard app (44 characters ending in '=')")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != wgtypes.KeyLen || len(s) != 44 {
		return wgtypes.Key{}, rocca.Localized(rocca.EINVALID, "vpn.error.key_format", "this is not a WireGuard key: a key is 44 characters of base64 ending in '=', as shown by the WireGuard app")
	}
	var k wgtypes.Key
	copy(k[:], b)
	if k == (wgtypes.Key{}) {
		return wgtypes.Key{}, rocca.Localized(rocca.EINVALID, "vpn.error.key_zero", "this key is all zeros, which WireGuard does not accept: paste the public key shown by the WireGuard app")
	}
	return k, nil
}

// loadOrCreateServerKey returns the server's private key from path, creating the file (0600,
// directory 0700) with a new key only when it does not exist. An unreadable or damaged file is an
// error, never a reason to make a new key: every device depends on this one.
func loadOrCreateServerKey(path string) (wgtypes.Key, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, perr := ParseKey(string(b))
		if perr != nil {
			return wgtypes.Key{}, rocca.Localized(rocca.EINVALID, "vpn.error.server_key_damaged",
				fmt.Sprintf("the VPN server key file %s is damaged: restore it from a backup (a new key would cut off every device)", path), path)
		}
		if err := ensurePrivate(path); err != nil {
			return wgtypes.Key{}, err
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return wgtypes.Key{}, fmt.Errorf("read vpn server key: %w", err)
	}
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("generate vpn server key: %w", err)
	}
	if err := createSecretFile(path, []byte(k.String()+"\n")); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race: use its key
			return loadOrCreateServerKey(path)
		}
		return wgtypes.Key{}, err
	}
	return k, nil
}

// replaceServerKey writes k to path atomically (adopting an imported key), 0600.
func replaceServerKey(path string, k wgtypes.Key) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("vpn server key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vpn-server-*.key")
	if err != nil {
		return fmt.Errorf("vpn server key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("vpn server key: %w", err)
	}
	if _, err := tmp.WriteString(k.String() + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("vpn server key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("vpn server key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("vpn server key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("vpn server key: %w", err)
	}
	return nil
}

// createSecretFile creates path (O_EXCL, 0600, directory 0700) with data.
func createSecretFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// ensurePrivate tightens a key file that someone made readable by others back to 0600.
func ensurePrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("protect key file %s: %w", path, err)
		}
	}
	return nil
}

// pskBox seals pre-shared keys for the database with AES-256-GCM under a key kept in a file
// outside the database (keys/vpn-psk.key), so a copy of the database alone reveals no PSK.
type pskBox struct{ aead cipher.AEAD }

// pskPrefix versions the sealed format.
const pskPrefix = "v1:"

func loadPSKBox(path string) (*pskBox, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("vpn psk key: %w", err)
		}
		if err := createSecretFile(path, key); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return loadPSKBox(path)
			}
			return nil, fmt.Errorf("vpn psk key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("vpn psk key: %w", err)
	} else if err := ensurePrivate(path); err != nil {
		return nil, err
	}
	if len(key) != 32 {
		return nil, rocca.Localized(rocca.EINVALID, "vpn.error.psk_key_damaged",
			fmt.Sprintf("the VPN pre-shared key file %s is damaged: restore it from a backup", path), path)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vpn psk key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vpn psk key: %w", err)
	}
	return &pskBox{aead: aead}, nil
}

// pskAAD binds a sealed value to its purpose.
var pskAAD = []byte("rocca vpn psk")

func (b *pskBox) seal(k wgtypes.Key) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal psk: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, k[:], pskAAD)
	return pskPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// openInto opens s into k like open, decoding through in and out, buffers it returns grown for
// the next call: reading every device's key on every reconcile pass then allocates nothing.
func (b *pskBox) openInto(s string, k *wgtypes.Key, in, out []byte) ([]byte, []byte, error) {
	raw, ok := strings.CutPrefix(s, pskPrefix)
	if !ok {
		return in, out, errors.New("open psk: unknown format")
	}
	in = slices.Grow(in[:0], base64.StdEncoding.DecodedLen(len(raw)))[:base64.StdEncoding.DecodedLen(len(raw))]
	var src [128]byte // the text of a sealed key is 80 bytes
	if len(raw) > len(src) {
		return in, out, errors.New("open psk: damaged value")
	}
	copy(src[:], raw)
	m, err := base64.StdEncoding.Decode(in, src[:len(raw)])
	n := b.aead.NonceSize()
	if err != nil || m < n {
		return in, out, errors.New("open psk: damaged value")
	}
	plain, err := b.aead.Open(out[:0], in[:n], in[n:m], pskAAD)
	if err != nil || len(plain) != wgtypes.KeyLen {
		return in, out, errors.New("open psk: wrong key file or damaged value")
	}
	copy(k[:], plain)
	clear(plain) // the plaintext stays in k only
	return in, plain, nil
}

func (b *pskBox) open(s string) (wgtypes.Key, error) {
	var k wgtypes.Key
	_, _, err := b.openInto(s, &k, nil, nil)
	return k, err
}
