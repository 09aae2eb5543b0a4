package rocca_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/internal/i18n"
)

const module = "github.com/rocca-pa/rocca"

// goPackages returns, for each directory holding non-test Go files, the parsed files' imports and
// whether any file carries a package doc comment.
func goPackages(t *testing.T) map[string]struct {
	imports []string
	doc     bool
} {
	t.Helper()
	pkgs := map[string]struct {
		imports []string
		doc     bool
	}{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		p := pkgs[dir]
		p.doc = p.doc || f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != ""
		for _, imp := range f.Imports {
			s, _ := strconv.Unquote(imp.Path.Value)
			p.imports = append(p.imports, s)
		}
		pkgs[dir] = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func partOf(rel string) string {
	first, _, _ := strings.Cut(rel, "/")
	switch first {
	case "vpn", "conferencing", "helpdesk":
		return first
	}
	return ""
}

// TestPartsStayApart enforces DESIGN.md: vpn, conferencing and helpdesk never import each other or
// internal/auth; cmd/rocca wires them together through small interfaces.
func TestPartsStayApart(t *testing.T) {
	for dir, p := range goPackages(t) {
		part := partOf(filepath.ToSlash(dir))
		if part == "" {
			continue
		}
		for _, imp := range p.imports {
			rel, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			if other := partOf(rel); other != "" && other != part {
				t.Errorf("%s imports %s: parts never import each other; declare an interface and let cmd/rocca wire it", dir, imp)
			}
			if rel == "internal/auth" || strings.HasPrefix(rel, "internal/auth/") {
				t.Errorf("%s imports %s: parts see users only through package rocca", dir, imp)
			}
		}
	}
}

// TestEveryPackageHasADoc enforces that each package says what it owns.
func TestEveryPackageHasADoc(t *testing.T) {
	for dir, p := range goPackages(t) {
		if strings.HasPrefix(filepath.ToSlash(dir), "cmd/") {
			continue
		}
		if !p.doc {
			t.Errorf("package in %s has no package doc comment saying what it owns", dir)
		}
	}
}

var keyUses = []*regexp.Regexp{
	regexp.MustCompile(`\bt\s+"([A-Za-z0-9_.\-]+)"`),                          // templates: {{t "key"}}
	regexp.MustCompile(`\.T\(\s*[A-Za-z0-9_.()]+\s*,\s*"([A-Za-z0-9_.\-]+)"`), // Go: cat.T(lang, "key")
	regexp.MustCompile(`Localized\(\s*[A-Za-z0-9_.]+\s*,\s*"([A-Za-z0-9_.\-]+)"`),
}

// TestCatalogHasEveryUsedKey fails when code or a template uses a message key that the it or en
// catalog lacks.
func TestCatalogHasEveryUsedKey(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if ext != ".go" && ext != ".html" && ext != ".tmpl" || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			t.Error(err)
			return nil
		}
		for _, re := range keyUses {
			if ext == ".go" && re == keyUses[0] {
				continue
			}
			for _, m := range re.FindAllStringSubmatch(string(body), -1) {
				used++
				for _, lang := range i18n.Languages() {
					if !cat.Has(lang, m[1]) {
						t.Errorf("%s uses message key %q, missing in messages.%s.toml", path, m[1], lang)
					}
				}
			}
		}
		return nil
	})
	if used == 0 {
		t.Fatal("found no message key in use: the scanner is broken")
	}
	checkKeyLiterals(t, cat)
}

// fileExt marks literals that are file names ("auth.key"), not message keys.
var fileExt = map[string]bool{".key": true, ".sock": true, ".toml": true, ".db": true, ".crt": true, ".pem": true, ".json": true, ".html": true}

var keyLiteral = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

// checkKeyLiterals catches keys the CLI passes around before they reach T (command summaries, flag
// help): in cmd/, any Go string literal shaped like a key whose first segment is an area of the
// catalog must be a key, or the prefix of keys built at run time. Elsewhere such literals are too
// often config key names ("vpn.listen_port") to tell apart.
func checkKeyLiterals(t *testing.T, cat *i18n.Catalog) {
	keys := cat.Keys(i18n.Default)
	areas := map[string]bool{}
	for _, k := range keys {
		area, _, _ := strings.Cut(k, ".")
		areas[area] = true
	}
	isPrefix := func(lit string) bool {
		for _, k := range keys {
			if strings.HasPrefix(k, lit+".") {
				return true
			}
		}
		return false
	}
	filepath.WalkDir("cmd", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		body, _ := os.ReadFile(path)
		for _, m := range keyLiteral.FindAllStringSubmatch(string(body), -1) {
			area, _, _ := strings.Cut(m[1], ".")
			if !areas[area] || isPrefix(m[1]) || fileExt[filepath.Ext(m[1])] {
				continue
			}
			for _, lang := range i18n.Languages() {
				if !cat.Has(lang, m[1]) {
					t.Errorf("%s mentions message key %q, missing in messages.%s.toml", path, m[1], lang)
				}
			}
		}
		return nil
	})
}
