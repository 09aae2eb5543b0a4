package installer

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDoctorJSONGolden pins the shape of `rocca doctor --json` (docs/doctor.md): a machine with one
// warning and one blocker, in both languages. A change here is a change of a documented format.
func TestDoctorJSONGolden(t *testing.T) {
	f := goodSys()
	f.fw.UFW = true
	f.mem = 256 << 20
	cfg := testConfig("/var/lib/rocca")
	in := Input{Sys: f, Config: cfg, Paths: NewPaths(""), Doctor: true}
	rep := Preflight(context.Background(), in, nil)
	for _, lang := range []string{"it", "en"} {
		var b bytes.Buffer
		if err := rep.WriteJSON(&b, testCatalog(t), lang, "/etc/rocca/rocca.toml"); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "doctor."+lang+".golden")
		if *update {
			os.MkdirAll("testdata", 0o755)
			os.WriteFile(golden, b.Bytes(), 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from the golden file:\n%s", lang, b.String())
		}
	}
}

// TestDoctorJSONFields checks the documented fields independently of the texts.
func TestDoctorJSONFields(t *testing.T) {
	f := goodSys()
	f.mem = 256 << 20
	rep := Preflight(context.Background(), Input{Sys: f, Config: testConfig("/var/lib/rocca"), Paths: NewPaths(""), Doctor: true}, nil)
	var b bytes.Buffer
	if err := rep.WriteJSON(&b, testCatalog(t), "en", "/etc/rocca/rocca.toml"); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Version int    `json:"version"`
		Config  string `json:"config"`
		Status  string `json:"status"`
		Checks  []struct {
			ID, Status, Title, Message, Fix string
		} `json:"checks"`
	}
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Version != 1 || out.Status != "blocker" || len(out.Checks) != len(Checks()) {
		t.Fatalf("header: %+v", out)
	}
	for i, c := range out.Checks {
		if c.ID != CheckIDs()[i] || c.Title == "" || c.Message == "" {
			t.Errorf("check %d: %+v", i, c)
		}
		if c.ID == "memory" && (c.Status != "blocker" || c.Fix == "") {
			t.Errorf("memory: %+v", c)
		}
	}
}
