// Package backup writes and restores Rocca's backup archive: one tar.gz holding a consistent copy of
// the database (VACUUM INTO, taken while the server runs), the config file and the server's key and
// certificate files, with a manifest of SHA-256 sums. Restore checks everything before it replaces
// anything, and moves what it replaces aside instead of deleting it.
//
// The key that encrypts the mail accounts' stored OAuth2 sign-ins (<data_dir>/oauth.key) is left out
// unless asked for (Source.OAuthKey): an archive without it holds the sign-ins only encrypted, so
// a stolen archive does not give access to the municipality's mailbox.
//
// Only cmd/rocca imports it. Client private keys are never in the data dir, so never in a backup.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rocca-pa/rocca/internal/sqlite"
)

// Format names the archive layout; restore refuses other formats.
const Format = "rocca-backup/1"

const (
	dbName       = "rocca.db"
	configName   = "config/rocca.toml"
	manifestName = "manifest.json"
	// OAuthKeyName is the archive member of the OAuth2 key file, when it is included.
	OAuthKeyName = "data/oauth.key"
)

// KeyDirs are the data-dir subdirectories whose files are secrets the server generated and that a
// restore must bring back (TLS certificates, server keys).
var keyDirs = []string{"keys", "tls"}

// recordsDir is where council sessions keep their records (conferencing's Config.CouncilDir).
const recordsDir = "council"

// Manifest describes an archive.
type Manifest struct {
	Format  string    `json:"format"`
	Version string    `json:"version"`
	Created time.Time `json:"created"`
	Files   []File    `json:"files"`
}

// File is one archived file.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source says what to back up.
type Source struct {
	DB         *sqlite.DB
	DataDir    string
	ConfigFile string // "" when the server runs on embedded defaults
	Version    string
	// OAuthKey is the mail accounts' OAuth2 key file to include (archived as data/oauth.key and
	// restored into the data dir); "" leaves it out, the default.
	OAuthKey string
}

// Create writes the archive to dest (which must not exist) and returns its manifest. The database
// copy is taken with VACUUM INTO, so the server can keep serving.
func Create(ctx context.Context, src Source, dest string) (*Manifest, error) {
	tmpDir, err := os.MkdirTemp(filepath.Dir(dest), ".rocca-backup-")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	snap := filepath.Join(tmpDir, dbName)
	if err := src.DB.Backup(ctx, snap); err != nil {
		return nil, err
	}
	files := map[string]string{dbName: snap} // archive name -> path on disk
	if src.ConfigFile != "" {
		files[configName] = src.ConfigFile
	}
	for _, d := range keyDirs {
		if err := addTree(files, src.DataDir, d); err != nil {
			return nil, err
		}
	}
	if err := addRecords(files, src.DataDir); err != nil {
		return nil, err
	}
	if src.OAuthKey != "" {
		files[OAuthKeyName] = src.OAuthKey
	}
	return writeArchive(dest, files, src.Version)
}

// addRecords adds the council sessions' sealed records (<data_dir>/council/*.record): small, and
// the legal trace of each session. The recordings next to them are left out: they can weigh
// gigabytes, and each record lists their SHA-256, so a copy archived elsewhere stays verifiable.
func addRecords(files map[string]string, root string) error {
	paths, err := filepath.Glob(filepath.Join(root, recordsDir, "*.record"))
	if err != nil {
		return fmt.Errorf("backup records: %w", err)
	}
	for _, p := range paths {
		files["data/"+recordsDir+"/"+filepath.Base(p)] = p
	}
	return nil
}

func addTree(files map[string]string, root, sub string) error {
	base := filepath.Join(root, sub)
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, path)
			files["data/"+filepath.ToSlash(rel)] = path
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("backup %s: %w", base, err)
	}
	return nil
}

func writeArchive(dest string, files map[string]string, version string) (*Manifest, error) {
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(dest)
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	m := &Manifest{Format: Format, Version: version, Created: time.Now().UTC()}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		entry, err := addFile(tw, name, files[name])
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, entry)
	}
	// The manifest goes last: a truncated archive has none and is refused.
	body, _ := json.MarshalIndent(m, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(body)), ModTime: m.Created}); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if _, err := tw.Write(body); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	for _, c := range []io.Closer{tw, gz} {
		if err := c.Close(); err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	ok = true
	return m, nil
}

func addFile(tw *tar.Writer, name, path string) (File, error) {
	src, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("backup %s: %w", path, err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return File{}, fmt.Errorf("backup %s: %w", path, err)
	}
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime()}
	if err := tw.WriteHeader(hdr); err != nil {
		return File{}, fmt.Errorf("backup %s: %w", path, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), src)
	if err != nil {
		return File{}, fmt.Errorf("backup %s: %w", path, err)
	}
	return File{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// safeName reports whether an archive member name stays inside the extraction directory.
func safeName(name string) bool {
	clean := filepath.ToSlash(filepath.Clean(name))
	return clean == name && !strings.HasPrefix(clean, "../") && clean != ".." && !filepath.IsAbs(name)
}
