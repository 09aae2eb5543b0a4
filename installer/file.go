package installer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// writeAtomic writes data to a temporary file in the same directory with perm and renames it over
// path: an interrupted run leaves either the old file or the new one, never half of one.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	return writeAtomicFrom(path, bytes.NewReader(data), perm)
}

func writeAtomicFrom(path string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fileState is what is on disk at a path.
type fileState struct {
	exists   bool
	sum      [32]byte
	mode     os.FileMode
	uid, gid int
}

// statFile reads the state of the file at path; a missing file is not an error.
func statFile(path string) (fileState, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileState{}, nil
	}
	if err != nil {
		return fileState{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileState{}, err
	}
	if st.IsDir() {
		return fileState{}, fmt.Errorf("%s is a directory", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fileState{}, err
	}
	s := fileState{exists: true, mode: st.Mode().Perm()}
	copy(s.sum[:], h.Sum(nil))
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.uid, s.gid = int(sys.Uid), int(sys.Gid)
	}
	return s, nil
}

// exists reports whether path exists (of any type).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
