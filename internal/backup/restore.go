package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// maxMember bounds one archive member, so a hostile archive cannot fill the disk.
const maxMember = 64 << 30

// Target says where to restore.
type Target struct {
	DataDir    string
	ConfigFile string // where the config belongs; written only if no file is there yet
}

// Result says what a restore did.
type Result struct {
	Manifest   *Manifest
	MovedAside string // directory holding the files the restore replaced, "" if none
	ConfigNote string // where the archived config was put, when the live one was kept
	OAuthKey   bool   // the archive held the OAuth2 key file, now back in the data dir
}

// Verify unpacks the archive into a temporary directory next to the data dir, checks every file
// against the manifest and the database's integrity, and returns the directory (to be removed by the
// caller) and the manifest. It changes nothing else.
func Verify(ctx context.Context, archive, dataDir string) (string, *Manifest, error) {
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dataDir)), 0o755); err != nil {
		return "", nil, fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dataDir)), ".rocca-restore-")
	if err != nil {
		return "", nil, fmt.Errorf("restore: %w", err)
	}
	m, err := unpack(archive, tmp)
	if err == nil {
		err = sqlite.CheckIntegrity(ctx, filepath.Join(tmp, dbName))
		if err != nil {
			err = rocca.Localized(rocca.EINVALID, "backup.bad_archive", "archive refused: "+err.Error(), archive, err.Error())
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	return tmp, m, nil
}

// Restore verifies the archive and only then puts its files in place. Files it replaces are moved
// into <DataDir>/pre-restore-<time>/, never deleted. The server must be stopped.
func Restore(ctx context.Context, archive string, t Target) (*Result, error) {
	tmp, m, err := Verify(ctx, archive, t.DataDir)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(t.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	res := &Result{Manifest: m}
	aside := filepath.Join(t.DataDir, "pre-restore-"+time.Now().UTC().Format("20060102T150405Z"))
	// The old database's -wal and -shm belong to it: leaving them beside the new file would corrupt it.
	for _, name := range []string{dbName, dbName + "-wal", dbName + "-shm"} {
		if err := moveAside(filepath.Join(t.DataDir, name), aside, name, res); err != nil {
			return nil, err
		}
	}
	for _, f := range m.Files {
		if err := place(tmp, f.Name, t, aside, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func place(tmp, name string, t Target, aside string, res *Result) error {
	from := filepath.Join(tmp, filepath.FromSlash(name))
	switch {
	case name == dbName:
		return rename(from, filepath.Join(t.DataDir, dbName))
	case name == configName:
		if _, err := os.Stat(t.ConfigFile); t.ConfigFile == "" || err == nil {
			res.ConfigNote = filepath.Join(t.DataDir, "rocca.toml.from-backup")
			return rename(from, res.ConfigNote)
		}
		if err := os.MkdirAll(filepath.Dir(t.ConfigFile), 0o755); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		return rename(from, t.ConfigFile)
	default:
		rel, _ := strings.CutPrefix(name, "data/")
		to := filepath.Join(t.DataDir, filepath.FromSlash(rel))
		if err := moveAside(to, aside, rel, res); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if err := rename(from, to); err != nil {
			return err
		}
		res.OAuthKey = res.OAuthKey || name == OAuthKeyName
		// Keys and certificates: readable by the service alone, whatever the umask was.
		if err := os.Chmod(to, 0o600); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		return nil
	}
}

func moveAside(path, aside, rel string, res *Result) error {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	to := filepath.Join(aside, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	res.MovedAside = aside
	return rename(path, to)
}

func rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// unpack extracts archive into dir and checks it against its manifest.
func unpack(archive, dir string) (*Manifest, error) {
	refuse := func(reason string) error {
		return rocca.Localized(rocca.EINVALID, "backup.bad_archive", "archive refused: "+reason, archive, reason)
	}
	f, err := os.Open(archive)
	if err != nil {
		return nil, rocca.Localized(rocca.ENOTFOUND, "backup.no_archive", "cannot open archive "+archive, archive)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, refuse("not a gzip file: " + err.Error())
	}
	tr := tar.NewReader(gz)
	sums := map[string]File{}
	var m *Manifest
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, refuse("damaged or truncated: " + err.Error())
		}
		if hdr.Typeflag != tar.TypeReg || !safeName(hdr.Name) || hdr.Size > maxMember {
			return nil, refuse("unexpected member " + hdr.Name)
		}
		if hdr.Name == manifestName {
			m = &Manifest{}
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(m); err != nil {
				return nil, refuse("bad manifest: " + err.Error())
			}
			continue
		}
		fe, err := extract(tr, hdr, dir)
		if err != nil {
			return nil, refuse("damaged or truncated: " + err.Error())
		}
		sums[hdr.Name] = fe
	}
	if err := gz.Close(); err != nil {
		return nil, refuse("damaged: " + err.Error())
	}
	if m == nil {
		return nil, refuse("no manifest (truncated archive?)")
	}
	if m.Format != Format {
		return nil, refuse("unknown format " + m.Format)
	}
	if len(m.Files) != len(sums) {
		return nil, refuse(fmt.Sprintf("manifest lists %d files, archive holds %d", len(m.Files), len(sums)))
	}
	for _, want := range m.Files {
		if got, ok := sums[want.Name]; !ok || got != want {
			return nil, refuse("checksum mismatch for " + want.Name)
		}
	}
	if _, ok := sums[dbName]; !ok {
		return nil, refuse("no database in archive")
	}
	return m, nil
}

func extract(tr *tar.Reader, hdr *tar.Header, dir string) (File, error) {
	to := filepath.Join(dir, filepath.FromSlash(hdr.Name))
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return File{}, err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), tr)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, err
	}
	if n != hdr.Size {
		return File{}, fmt.Errorf("%s: short file", hdr.Name)
	}
	return File{Name: hdr.Name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
