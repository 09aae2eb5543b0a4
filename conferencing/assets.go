package conferencing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
)

// staticPrefix is where the browser client's files are served.
const staticPrefix = "/meetings/static/"

// assets are the browser client's files. They share one version, a hash of them all, added to
// every URL (the page's and the ES module imports'), so browsers may cache them for a year and
// still never mix files of two releases.
type assets struct {
	version string
	files   map[string][]byte
}

// relativeImport matches the module specifiers of `import … from "./x.js"` and `import("./x.js")`.
var relativeImport = regexp.MustCompile(`((?:from|import)\s*\(?\s*)"\./([A-Za-z0-9_-]+\.js)"`)

func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{files: map[string][]byte{}}
	names, err := fs.Glob(fsys, "*")
	if err != nil {
		return nil, fmt.Errorf("meeting client files: %w", err)
	}
	sort.Strings(names)
	sum := sha256.New()
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("meeting client file %s: %w", name, err)
		}
		sum.Write([]byte(name))
		sum.Write(b)
		a.files[name] = b
	}
	a.version = hex.EncodeToString(sum.Sum(nil)[:6])
	for name, b := range a.files {
		if path.Ext(name) == ".js" {
			a.files[name] = relativeImport.ReplaceAll(b, []byte(`$1"./$2?v=`+a.version+`"`))
		}
	}
	return a, nil
}

// url is the versioned address of a client file.
func (a *assets) url(name string) string { return staticPrefix + name + "?v=" + a.version }
