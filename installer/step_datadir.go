package installer

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// dataDirStep creates the data directory: the database, keys, certificates and recordings.
type dataDirStep struct{}

func (dataDirStep) name() string { return "datadir" }

func (dataDirStep) plan(_ context.Context, p *Plan) (Change, error) {
	dir := p.answers.Config.Server.DataDir
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return Change{}, fmt.Errorf("%s exists and is not a directory", dir)
	case err == nil:
		return Change{Action: Keep, Target: dir, Msg: "installer.step.datadir.keep", Args: []any{dir}}, nil
	}
	return Change{Action: Create, Target: dir, Msg: "installer.step.datadir.create", Args: []any{dir}}, nil
}

func (dataDirStep) apply(_ context.Context, p *Plan) error {
	return os.MkdirAll(p.answers.Config.Server.DataDir, 0o750)
}

// ownershipStep gives the data directory and everything in it to the service user: the installer
// created the database and the keys as root. Under a prefix it does nothing.
type ownershipStep struct{}

func (ownershipStep) name() string { return "ownership" }

func (ownershipStep) plan(_ context.Context, p *Plan) (Change, error) {
	dir := p.answers.Config.Server.DataDir
	c := Change{Target: dir, Args: []any{dir, ServiceUser}}
	switch {
	case !p.inst.Paths.System():
		c.Action, c.Msg = Skip, "installer.step.ownership.skip_prefix"
	case p.willChangeData() || !ownedBy(p, dir):
		c.Action, c.Msg = Update, "installer.step.ownership.update"
	default:
		c.Action, c.Msg = Keep, "installer.step.ownership.keep"
	}
	return c, nil
}

// willChangeData reports whether an earlier step creates files in the data directory.
func (p *Plan) willChangeData() bool {
	for _, name := range []string{"datadir", "keys", "tls", "database"} {
		if p.changeOf(name).Changes() {
			return true
		}
	}
	return false
}

// ownedBy reports whether everything under dir belongs to the service user.
func ownedBy(p *Plan, dir string) bool {
	uid, gid, known := ownerService.ids(p)
	if !known {
		return false
	}
	owned := true
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // gone meanwhile (SQLite's -wal and -shm files come and go)
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != uid || int(st.Gid) != gid) {
			owned = false
			return filepath.SkipAll
		}
		return nil
	})
	return owned
}

func (ownershipStep) apply(_ context.Context, p *Plan) error {
	uid, gid, known := ownerService.ids(p)
	if !known {
		return fmt.Errorf("user %s: %w", ServiceUser, os.ErrNotExist)
	}
	return filepath.WalkDir(p.answers.Config.Server.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		return os.Lchown(path, uid, gid)
	})
}
