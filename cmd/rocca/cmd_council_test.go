package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/conferencing/council"
)

// councilRecord writes a sealed record of a short session.
func councilRecord(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "council", "s1.record")
	rec, err := council.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := council.New(council.Config{ID: "s1", Members: []council.Member{
		{ID: "a", Name: "Anna", Seat: 1, CountsForQuorum: true}, {ID: "b", Name: "Bruno", Seat: 2, CountsForQuorum: true}},
		Quorum: council.QuorumRule{Kind: council.QuorumMajority}, Record: rec})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		for _, f := range []func(string) error{s.Connect, s.MediaReceived, s.Confirm} {
			if err := f(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.OpenVote("1", "Bilancio", false); err != nil {
		t.Fatal(err)
	}
	if err := s.Cast("a", council.Favorevole); err != nil {
		t.Fatal(err)
	}
	key, err := council.LoadOrCreateKey(council.KeyPath(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close("presidente", key); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := newCLI(strings.NewReader(""), &out, &errb, []string{"ROCCA_LANG=it"}).run(args)
	return out.String(), errb.String(), code
}

func TestCouncilVerifyCLI(t *testing.T) {
	path := councilRecord(t)
	out, errs, code := runCLI("council", "verify", path)
	if code != exitOK || !strings.Contains(out, "registro valido") {
		t.Fatalf("valid record: code %d, out %q, err %q", code, out, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Change one byte in the fourth line: the command must name entry 4.
	lines := bytes.SplitAfter(b, []byte("\n"))
	off := len(lines[0]) + len(lines[1]) + len(lines[2]) + 20
	b[off] ^= 0x01
	bad := filepath.Join(t.TempDir(), "altered.record")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runCLI("council", "verify", bad)
	if code != exitError || !strings.Contains(errs, "la voce 4 è stata alterata") {
		t.Fatalf("altered record: code %d, out %q, err %q", code, out, errs)
	}
	if _, errs, code = runCLI("council", "verify"); code != exitUsage {
		t.Fatalf("no file: code %d, err %q", code, errs)
	}
	if _, errs, code = runCLI("council", "verify", filepath.Join(t.TempDir(), "missing")); code != exitError || errs == "" {
		t.Fatalf("missing file: code %d, err %q", code, errs)
	}
}
