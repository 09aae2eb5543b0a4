package council

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

func ids(ms []Member) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// entries reads the record file as written so far.
func entries(t *testing.T, path string) []Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	var out []Entry
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var e Entry
		if bytes.HasPrefix(l, []byte(`{"seal":`)) {
			continue
		}
		must(t, json.Unmarshal(l, &e))
		out = append(out, e)
	}
	return out
}

func TestCouncilQuorumMajorityOf17(t *testing.T) {
	f := newFixture(t, assembly17(), QuorumRule{Kind: QuorumMajority})
	all := ids(assembly17())
	for _, id := range all[:8] {
		f.arrive(t, id)
	}
	if st := f.s.State(); st.Quorum || st.Present != 8 || st.Required != 9 || st.Assigned != 17 {
		t.Fatalf("8 of 17 present: %+v", st)
	}
	f.arrive(t, all[8])
	if st := f.s.State(); !st.Quorum || st.Present != 9 {
		t.Fatalf("9 of 17 present: quorum %v, present %d", st.Quorum, st.Present)
	}
	// Media keeps flowing for everybody but m09, past the window: m09 is absent, quorum lost.
	f.clk.Add(6 * time.Second)
	f.keepAlive(t, all[:8]...)
	f.clk.Add(5 * time.Second)
	f.keepAlive(t, all[:8]...)
	must(t, f.s.Check())
	st := f.s.State()
	if st.Quorum || st.Present != 8 || st.Members[8].Present || !st.Members[8].Connected {
		t.Fatalf("after m09's media stopped: %+v", st)
	}
	// Media back: present again without a new "presente".
	f.keepAlive(t, all[8])
	if !f.s.State().Quorum {
		t.Fatal("quorum not regained when m09's media came back")
	}
	var types []string
	for _, e := range entries(t, f.path) {
		types = append(types, e.Type)
	}
	want := []string{"quorum_gained", "quorum_lost", "quorum_gained"}
	got := slices.DeleteFunc(slices.Clone(types), func(s string) bool { return !strings.HasPrefix(s, "quorum_") })
	if !slices.Equal(got, want) {
		t.Fatalf("quorum events %v, want %v (all: %v)", got, want, types)
	}
	if i := slices.Index(types, "quorum_lost"); types[i-1] != "presence" {
		t.Fatalf("quorum_lost not preceded by m09's presence change: %v", types)
	}
}

func TestCouncilPresenceRules(t *testing.T) {
	ms := assembly17()
	ms[0].CountsForQuorum = false // the mayor, not counted
	f := newFixture(t, ms, QuorumRule{Kind: QuorumCustom, N: 2})
	must(t, f.s.Connect("m01"))
	must(t, f.s.MediaReceived("m01"))
	must(t, f.s.Confirm("m01"))
	if st := f.s.State(); !st.Members[0].Present || st.Present != 0 || st.Assigned != 16 {
		t.Fatalf("uncounted mayor: %+v", st)
	}
	// Connected with media but no "presente": absent.
	must(t, f.s.Connect("m02"))
	must(t, f.s.MediaReceived("m02"))
	if f.s.State().Members[1].Present {
		t.Fatal("present without confirming")
	}
	// The Secretary marks m03 present in the chamber, and m02 absent despite the connection.
	if err := f.s.Override("m03", true, "", "segretario"); rocca.ErrorCodeOf(err) != rocca.EINVALID {
		t.Fatalf("override without a note: %v", err)
	}
	must(t, f.s.Override("m03", true, "presente in aula", "segretario"))
	must(t, f.s.Confirm("m02"))
	if st := f.s.State(); !st.Quorum || st.Present != 2 {
		t.Fatalf("override + confirmed: %+v", st)
	}
	must(t, f.s.Disconnect("m02"))
	must(t, f.s.Connect("m02"))
	if st := f.s.State(); st.Quorum || st.Members[1].Present {
		t.Fatalf("reconnected without media yet: %+v", st)
	}
	var types []string
	for _, e := range entries(t, f.path) {
		types = append(types, e.Type)
	}
	for _, want := range []string{"arrival", "departure", "reconnection", "override", "quorum_lost"} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s event in %v", want, types)
		}
	}
}

func TestCouncilRecordingAndPublicSwitch(t *testing.T) {
	f := newFixture(t, assembly17(), QuorumRule{Kind: QuorumMajority})
	if err := f.s.RecordingStopped("pres"); rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
		t.Fatalf("stop before start: %v", err)
	}
	if err := f.s.RecordingStarted("pres"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RecordingStarted("pres"); rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
		t.Fatalf("second start: %v", err)
	}
	if err := f.s.SetPublic(true, "pres"); err != nil {
		t.Fatal(err)
	}
	st := f.s.State()
	if !st.Recording || !st.Public {
		t.Fatalf("state %+v: want recording and public", st)
	}
	if err := f.s.SetPublic(false, "pres"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RecordingStopped("pres"); err != nil {
		t.Fatal(err)
	}
	if st := f.s.State(); st.Recording || st.Public {
		t.Fatalf("state %+v: want neither", st)
	}
}
