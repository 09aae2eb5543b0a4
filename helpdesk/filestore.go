package helpdesk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// fileStore keeps attachment bytes in files named by their SHA-256, so that the same file sent many
// times is stored once and a file, once written, never changes. Files are written (and synced)
// before the transaction that references them commits; a crash in between leaves an unreferenced
// file, which is harmless.
type fileStore struct {
	dir string
}

func newFileStore(dir string) (*fileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("attachments directory: %w", err)
	}
	return &fileStore{dir: dir}, nil
}

// path returns where the file with this hex SHA-256 lives; "" for a malformed hash.
func (f *fileStore) path(sum string) string {
	if len(sum) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return ""
	}
	return filepath.Join(f.dir, sum[:2], sum)
}

// put stores data and returns its hex SHA-256.
func (f *fileStore) put(data []byte) (string, error) {
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	p := f.path(sum)
	if fi, err := os.Stat(p); err == nil && fi.Size() == int64(len(data)) {
		return sum, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("store attachment: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("store attachment: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("store attachment: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("store attachment: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("store attachment: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("store attachment: %w", err)
	}
	return sum, nil
}

// open returns the file with this hash.
func (f *fileStore) open(sum string) (*os.File, error) {
	p := f.path(sum)
	if p == "" {
		return nil, errors.New("malformed attachment hash")
	}
	return os.Open(p)
}
