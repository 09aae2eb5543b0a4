package installer

import (
	"context"
	"path/filepath"

	"github.com/rocca-pa/rocca/internal/auth"
)

// keysStep creates the server's secret keys when they are missing, and never touches one that
// exists: a new key would make the second factors enrolled with the old one unusable.
type keysStep struct{}

func (keysStep) name() string { return "keys" }

// keyFiles are the keys the installer creates; the parts create theirs at first start.
func keyFiles(dataDir string) []string {
	return []string{filepath.Join(dataDir, "keys", "auth.key")}
}

func (keysStep) plan(_ context.Context, p *Plan) (Change, error) {
	files := keyFiles(p.answers.Config.Server.DataDir)
	for _, f := range files {
		if !exists(f) {
			return Change{Action: Create, Target: f, Msg: "installer.step.keys.create", Args: []any{f}}, nil
		}
	}
	return Change{Action: Keep, Target: files[0], Msg: "installer.step.keys.keep", Args: []any{files[0]}}, nil
}

func (keysStep) apply(_ context.Context, p *Plan) error {
	_, err := auth.LoadOrCreateKey(keyFiles(p.answers.Config.Server.DataDir)[0])
	return err
}
