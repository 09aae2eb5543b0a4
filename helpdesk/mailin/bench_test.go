package mailin

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseCorpus parses every corpus message once per iteration.
func BenchmarkParseCorpus(b *testing.B) {
	files, _ := filepath.Glob("testdata/corpus/*.eml")
	var raws [][]byte
	size := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
		size += len(raw)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range raws {
			Parse(raw, Options{})
		}
	}
}
