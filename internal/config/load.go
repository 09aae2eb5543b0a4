package config

import (
	"errors"
	"net/netip"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Load reads the file at path, applies the ROCCA_<SECTION>_<KEY> overrides found in env (a list of
// "NAME=value" as from os.Environ) and validates the result. On failure the error is a *Problems
// holding every error found, not only the first. Warnings do not fail Load; Check returns them.
func Load(path string, env []string) (*Config, error) {
	data, p := read(path)
	if p != nil {
		return nil, &Problems{*p}
	}
	return Parse(path, data, env)
}

// Parse is Load on bytes already read; name is the file name used in problems.
func Parse(name string, data []byte, env []string) (*Config, error) {
	cfg, _, ps := parse(name, data, env, false, nil)
	if err := failOnErrors(ps); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadDefault is Load without a file: the embedded defaults, the environment overrides, validation.
func LoadDefault(env []string) (*Config, error) {
	cfg := Default()
	secs := sectionsOf(cfg, nil)
	origin, bad, ps := applyEnv(secs, env)
	ps = append(ps, validate(cfg, nil, locator{env: origin, bad: bad}, nil)...)
	if err := failOnErrors(ps); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Check does everything `rocca config check FILE` needs: it loads path like Load and returns every
// problem, errors and warnings, including the warning that the VPN subnet overlaps one of routes (the
// host's routes, read by the caller, excluding those of Rocca's own interface). cfg is nil when the
// file cannot be read or is not TOML at all; otherwise it holds what could be decoded.
func Check(path string, env []string, routes []netip.Prefix) (*Config, Problems) {
	data, p := read(path)
	if p != nil {
		return nil, Problems{*p}
	}
	cfg, _, ps := parse(path, data, env, false, routes)
	return cfg, ps
}

// LoadAnswers reads the installer's answers file: a rocca.toml plus an [admin] table.
func LoadAnswers(path string, env []string) (*Config, *Admin, error) {
	data, p := read(path)
	if p != nil {
		return nil, nil, &Problems{*p}
	}
	return ParseAnswers(path, data, env)
}

// ParseAnswers is LoadAnswers on bytes already read.
func ParseAnswers(name string, data []byte, env []string) (*Config, *Admin, error) {
	cfg, admin, ps := parse(name, data, env, true, nil)
	if err := failOnErrors(ps); err != nil {
		return nil, nil, err
	}
	return cfg, admin, nil
}

// Validate checks a Config built in code (the installer's answers, a test) and returns every problem;
// with no file behind it, problems name only the key.
func (c *Config) Validate(routes []netip.Prefix) Problems {
	ps := validate(c, nil, locator{}, routes)
	ps.sort()
	return ps
}

// maxFileSize is the largest configuration file accepted, in bytes.
const maxFileSize = 64 << 10

func failOnErrors(ps Problems) error {
	if errs := ps.Errors(); len(errs) > 0 {
		return &errs
	}
	return nil
}

func read(path string) ([]byte, *Problem) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg, args := fileError(path, err)
		return nil, &Problem{Severity: SeverityError, File: path, Msg: msg, Args: args}
	}
	return data, nil
}

// parse decodes data over the defaults, applies env and validates. It never stops at the first
// problem, except at a TOML syntax error, past which nothing can be decoded.
func parse(name string, data []byte, env []string, withAdmin bool, routes []netip.Prefix) (*Config, *Admin, Problems) {
	// A real rocca.toml is a few kilobytes; refusing huge input keeps the decoder's duplicate-key
	// tracking, quadratic in the keys of one table, from turning a wrong file into a long stall.
	if len(data) > maxFileSize {
		return nil, nil, Problems{{Severity: SeverityError, File: name, Msg: "config.too_large", Args: []any{len(data), maxFileSize}}}
	}
	doc := map[string]any{}
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, nil, Problems{syntaxProblem(name, err)}
	}
	cfg := Default()
	var admin *Admin
	if withAdmin {
		admin = &Admin{}
	}
	secs := sectionsOf(cfg, admin)
	d := decoder{file: name, pos: index(data), secs: secs, bad: map[string]bool{}}
	d.decode(doc)
	if withAdmin && doc["admin"] == nil {
		d.probs = append(d.probs, Problem{Severity: SeverityError, File: name, Key: "admin",
			Msg: "config.admin_missing"})
	}
	origin, envBad, envProbs := applyEnv(secs, env)
	for k := range envBad {
		d.bad[k] = true
	}
	ps := append(d.probs, envProbs...)
	ps = append(ps, validate(cfg, admin, locator{file: name, pos: d.pos, env: origin, bad: d.bad}, routes)...)
	ps.sort()
	return cfg, admin, ps
}

func syntaxProblem(name string, err error) Problem {
	p := Problem{Severity: SeverityError, File: name, Msg: "config.syntax", Args: []any{err.Error()}}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		p.Line, p.Column = de.Position()
		p.Key = strings.Join(de.Key(), ".")
		p.Args = []any{strings.TrimPrefix(de.Error(), "toml: ")}
	}
	p.Line, p.Column = max(p.Line, 0), max(p.Column, 0)
	return p
}
