package council

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sealedRecord runs a small session with every kind of event and returns the sealed file.
func sealedRecord(t testing.TB) ([]byte, ed25519.PublicKey) {
	t.Helper()
	f := newFixture(t, assembly17(), QuorumRule{Kind: QuorumMajority})
	for _, m := range assembly17()[:10] {
		f.arrive(t, m.ID)
	}
	must(t, f.s.StartRollCall("presidente"))
	if _, err := f.s.CloseRollCall("presidente"); err != nil {
		t.Fatal(err)
	}
	must(t, f.s.RequestFloor("m03"))
	if _, err := f.s.GrantFloor("", "presidente", 0); err != nil {
		t.Fatal(err)
	}
	must(t, f.s.RevokeFloor("presidente"))
	if _, err := f.s.OpenVote("punto 1", "Approvazione del bilancio", false); err != nil {
		t.Fatal(err)
	}
	must(t, f.s.Cast("m01", Favorevole))
	must(t, f.s.Cast("m02", Contrario))
	if _, err := f.s.CloseVote(); err != nil {
		t.Fatal(err)
	}
	must(t, f.s.RecordingFile("s1-m01-audio.webm", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 1234))
	must(t, f.s.Suspend("presidente", "connessione persa"))
	must(t, f.s.Resume("presidente"))
	must(t, f.s.Disconnect("m10"))
	must(t, f.s.Close("presidente", f.key))
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	return b, f.key.Public().(ed25519.PublicKey)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCouncilRecordVerifyValid(t *testing.T) {
	b, pub := sealedRecord(t)
	res, err := Verify(bytes.NewReader(b), pub)
	if err != nil || !res.Valid {
		t.Fatalf("sealed record not valid: %+v %v", res, err)
	}
	lines := bytes.Count(b, []byte("\n"))
	if res.Entries != int64(lines-1) || !bytes.Equal(res.PublicKey, pub) || res.Fingerprint() == "" {
		t.Fatalf("result %+v for %d lines", res, lines)
	}
	res, _ = Verify(bytes.NewReader(b), nil)
	if !res.Valid {
		t.Fatalf("without a trusted key: %+v", res)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if res, _ = Verify(bytes.NewReader(b), other); res.Valid || res.Problem != ProblemUntrusted {
		t.Fatalf("another trusted key: %+v", res)
	}
}

// TestVerifyEveryByte changes each byte of a sealed record in turn and requires Verify to reject
// the copy and to name the entry on that line (or the seal, for the last line).
func TestCouncilVerifyEveryByte(t *testing.T) {
	b, pub := sealedRecord(t)
	line := int64(1)
	total := int64(bytes.Count(b, []byte("\n")))
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		res, err := Verify(bytes.NewReader(c), pub)
		if err != nil {
			t.Fatal(err)
		}
		if res.Valid {
			t.Fatalf("byte %d (line %d) changed, record still valid", i, line)
		}
		want := line
		if line == total {
			want = 0 // the seal line
		}
		if res.Entry != want {
			t.Fatalf("byte %d on line %d changed: named entry %d (%s), want %d", i, line, res.Entry, res.Problem, want)
		}
		if b[i] == '\n' {
			line++
		}
	}
}

func TestCouncilVerifyCutAndExtended(t *testing.T) {
	b, pub := sealedRecord(t)
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty tail
	cases := map[string]struct {
		data []byte
		want Problem
	}{
		"empty":           {nil, ProblemEmpty},
		"unsealed":        {bytes.Join(lines[:len(lines)-1], nil), ProblemUnsealed},
		"entry dropped":   {bytes.Join(append(append([][]byte{}, lines[:len(lines)-2]...), lines[len(lines)-1]), nil), ProblemSeal},
		"after the seal":  {append(bytes.Clone(b), lines[0]...), ProblemAfterSeal},
		"no newline":      {b[:len(b)-1], ProblemSeal},
		"entries swapped": {bytes.Join(append([][]byte{lines[1], lines[0]}, lines[2:]...), nil), ProblemSeq},
	}
	for name, c := range cases {
		res, err := Verify(bytes.NewReader(c.data), pub)
		if err != nil || res.Valid || res.Problem != c.want {
			t.Errorf("%s: %+v %v, want problem %s", name, res, err, c.want)
		}
	}
}

func TestCouncilKeyCreatedOnce(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(KeyPath(dir))
	must(t, err)
	fi, err := os.Stat(filepath.Join(dir, "keys", "council-ed25519.key"))
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(KeyPath(dir))
	must(t, err)
	if !k1.Equal(k2) {
		t.Fatal("a second load made a new key")
	}
}

func FuzzVerify(f *testing.F) {
	seed, pub := sealedRecord(f)
	f.Add(seed)
	f.Add([]byte(`{"seal":{}}` + "\n"))
	f.Add([]byte("{\"seq\":1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Verify(bytes.NewReader(data), pub)
		if err != nil {
			t.Fatal(err)
		}
		// Only the exact record signed by the key can be valid: no other input may pass.
		if res.Valid && !bytes.Equal(data, seed) {
			t.Fatalf("a different record verified: %q", data)
		}
	})
}

// A record the server left open (stopped mid-session, the last line cut short by a crash) is
// sealed with session_interrupted naming where the session continues, and then verifies; its
// minutes say so, and so do those of the record that continues it.
func TestSealInterrupted(t *testing.T) {
	f := newFixture(t, assembly17(), QuorumRule{Kind: QuorumMajority})
	f.arrive(t, "m01")
	must(t, f.s.rec.Close())
	whole, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	cut := []byte(`{"seq":99,"time":"2025-03-01T18:00:0`)
	must(t, os.WriteFile(f.path, append(bytes.Clone(whole), cut...), 0o600))

	last, err := SealInterrupted(f.path, f.key, f.clk.Now(), "s2.record")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(bytes.NewReader(b), f.key.Public().(ed25519.PublicKey))
	if err != nil || !res.Valid || !bytes.HasPrefix(b, whole) || bytes.Contains(b, cut) {
		t.Fatalf("interrupted record after sealing: %+v %v\n%s", res, err, b)
	}
	m, err := ReadMinutes(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	ev := m.Events[len(m.Events)-1]
	if ev.Type != "session_interrupted" || ev.File != "s2.record" || !strings.Contains(string(b), `"dropped_bytes":36`) {
		t.Errorf("last event %+v", ev)
	}
	if _, err := SealInterrupted(f.path, f.key, f.clk.Now(), "s3.record"); err == nil {
		t.Error("a sealed record was sealed again")
	}

	// The record that continues the session points back to it.
	path := filepath.Join(filepath.Dir(f.path), "s2.record")
	rec, err := CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{ID: "s1", Title: "Consiglio comunale", Members: assembly17(), Quorum: QuorumRule{Kind: QuorumMajority},
		Now: f.clk.Now, Record: rec, Continues: &Continuation{File: "s1.record", LastHash: last}})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Close("presidente", f.key))
	b2, _ := os.ReadFile(path)
	m2, err := ReadMinutes(bytes.NewReader(b2))
	if err != nil || m2.Events[0].Type != "session_opened" || m2.Events[0].File != "s1.record" ||
		!strings.Contains(string(b2), `"continues":{"file":"s1.record","last_hash":"`+last+`"}`) {
		t.Errorf("continuing record: %+v %v\n%s", m2.Events[0], err, b2)
	}
}

// Damaged or sealed records are not resumed.
func TestResumeRecordRefusesDamage(t *testing.T) {
	b, _ := sealedRecord(t)
	dir := t.TempDir()
	sealed := filepath.Join(dir, "sealed.record")
	must(t, os.WriteFile(sealed, b, 0o600))
	if _, _, err := ResumeRecord(sealed); err == nil || !strings.Contains(err.Error(), "sealed") {
		t.Errorf("sealed record: %v", err)
	}
	damaged := filepath.Join(dir, "damaged.record")
	i := bytes.IndexByte(b, '\n')
	must(t, os.WriteFile(damaged, append(bytes.Replace(b[:i+1], []byte("s1"), []byte("s9"), 1), b[i+1:bytes.LastIndex(b, []byte(`{"seal":`))]...), 0o600))
	if _, _, err := ResumeRecord(damaged); err == nil || !strings.Contains(err.Error(), "entry 1") {
		t.Errorf("damaged record: %v", err)
	}
	if _, _, err := ResumeRecord(filepath.Join(dir, "missing.record")); err == nil {
		t.Error("missing record resumed")
	}
}
