package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and must return either a config or
// a *Problems whose every problem has a message and a line that is not negative.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.toml")
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, samplePath)
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.toml", data, []string{"ROCCA_VPN_LAN=10.0.0.0/8"})
		if err == nil {
			if cfg == nil {
				t.Fatal("no config and no error")
			}
			return
		}
		if cfg != nil {
			t.Fatal("a config along with an error")
		}
		var ps *Problems
		if !errors.As(err, &ps) || len(*ps) == 0 {
			t.Fatalf("error is not a non-empty *Problems: %T %v", err, err)
		}
		for _, p := range *ps {
			if p.Line < 0 || p.Column < 0 || p.Msg == "" || p.Severity != SeverityError {
				t.Fatalf("bad problem %+v", p)
			}
		}
		_ = err.Error()
	})
}
