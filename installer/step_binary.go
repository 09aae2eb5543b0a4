package installer

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
)

// binaryStep installs the running binary where the unit starts it from, so that running a newer
// rocca's installer is also the upgrade.
type binaryStep struct{}

func (binaryStep) name() string { return "binary" }

func (binaryStep) plan(_ context.Context, p *Plan) (Change, error) {
	src, err := p.inst.exe()
	if err != nil {
		return Change{}, err
	}
	dst := p.inst.Paths.Binary
	change := Change{Target: dst, Args: []any{dst}}
	if same(src, dst) {
		change.Action = Keep
	} else {
		sum, err := hashFile(src)
		if err != nil {
			return Change{}, err
		}
		have, err := statFile(dst)
		if err != nil {
			return Change{}, err
		}
		change.Action = compareFile(p, have, sum, 0o755, ownerRoot)
	}
	change.Msg = "installer.step.binary." + string(change.Action)
	return change, nil
}

func (binaryStep) apply(_ context.Context, p *Plan) error {
	src, err := p.inst.exe()
	if err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := writeAtomicFrom(p.inst.Paths.Binary, f, 0o755); err != nil {
		return err
	}
	return chownFile(p, p.inst.Paths.Binary, ownerRoot)
}

// same reports whether a and b are the same file (running the installed binary).
func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func hashFile(path string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
