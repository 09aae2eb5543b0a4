package installer

import (
	"bytes"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// configStep writes rocca.toml, commented in Italian and English, readable by the service only.
func configStep(a *Answers, paths Paths, cat *i18n.Catalog) step {
	return fileStep{id: "config", path: paths.Config, mode: 0o640, owner: ownerRootService,
		content: func() ([]byte, error) {
			var b bytes.Buffer
			err := config.Write(&b, a.Config, cat)
			return b.Bytes(), err
		}}
}
