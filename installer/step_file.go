package installer

import (
	"context"
	"crypto/sha256"
	"os"
)

// owner says who should own a file of a real install; under a prefix owners are left alone.
type owner int

const (
	ownerRoot        owner = iota // root:root
	ownerRootService              // root:rocca, so the service reads it and cannot change it
	ownerService                  // rocca:rocca
)

// ids returns the uid and gid for o; known is false while the service user does not exist yet.
func (o owner) ids(p *Plan) (uid, gid int, known bool) {
	if o == ownerRoot {
		return 0, 0, true
	}
	su, sg, err := p.inst.Sys.LookupUser(ServiceUser)
	if err != nil {
		return 0, 0, false
	}
	if o == ownerRootService {
		return 0, sg, true
	}
	return su, sg, true
}

// fileStep writes one file atomically when its content, mode or owner differ from the desired ones.
type fileStep struct {
	id      string
	path    string
	mode    os.FileMode
	owner   owner
	content func() ([]byte, error)
	after   func(ctx context.Context, p *Plan) error // run after a write, e.g. reload sysctl
}

func (s fileStep) name() string { return s.id }

func (s fileStep) plan(_ context.Context, p *Plan) (Change, error) {
	want, err := s.content()
	if err != nil {
		return Change{}, err
	}
	have, err := statFile(s.path)
	if err != nil {
		return Change{}, err
	}
	action := compareFile(p, have, sha256.Sum256(want), s.mode, s.owner)
	return Change{Action: action, Target: s.path, Msg: "installer.step." + s.id + "." + string(action), Args: []any{s.path}}, nil
}

// compareFile decides the action for a file whose desired content has hash sum.
func compareFile(p *Plan, have fileState, sum [32]byte, mode os.FileMode, o owner) Action {
	if !have.exists {
		return Create
	}
	if have.sum != sum || have.mode != mode {
		return Update
	}
	if p.inst.Paths.System() {
		if uid, gid, known := o.ids(p); !known || have.uid != uid || have.gid != gid {
			return Update
		}
	}
	return Keep
}

func (s fileStep) apply(ctx context.Context, p *Plan) error {
	data, err := s.content()
	if err != nil {
		return err
	}
	if err := writeAtomic(s.path, data, s.mode); err != nil {
		return err
	}
	if err := chownFile(p, s.path, s.owner); err != nil {
		return err
	}
	if s.after != nil {
		return s.after(ctx, p)
	}
	return nil
}

// chownFile gives path to o in a real install.
func chownFile(p *Plan, path string, o owner) error {
	if !p.inst.Paths.System() {
		return nil
	}
	uid, gid, known := o.ids(p)
	if !known {
		return os.ErrNotExist
	}
	return os.Lchown(path, uid, gid)
}
