package council

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/rocca-pa/rocca"
)

func wantErr(t *testing.T, err error, code rocca.ErrorCode, key string) {
	t.Helper()
	var re *rocca.Error
	if !errors.As(err, &re) || re.Code != code || re.Key != key {
		t.Fatalf("got %v, want %s / %s", err, code, key)
	}
}

// choiceFor gives 8 favorevole, 5 contrario, 3 astenuto among the first 16 seats.
func choiceFor(i int) Choice {
	switch {
	case i < 8:
		return Favorevole
	case i < 13:
		return Contrario
	}
	return Astenuto
}

func TestCouncilOpenVote17(t *testing.T) {
	f := newFixture(t, assembly17(), QuorumRule{Kind: QuorumMajority})
	all := ids(assembly17())
	for _, id := range all[:16] {
		f.arrive(t, id)
	}
	if _, err := f.s.OpenVote("punto 2", "Approvazione del verbale", false); err != nil {
		t.Fatal(err)
	}
	f.arrive(t, all[16]) // joined after the vote opened
	for i, id := range all[:16] {
		must(t, f.s.Cast(id, choiceFor(i)))
	}
	wantErr(t, f.s.Cast(all[16], Favorevole), rocca.EFORBIDDEN, "council.error.not_eligible")
	wantErr(t, f.s.Cast(all[0], Contrario), rocca.ECONFLICT, "council.error.already_voted")
	wantErr(t, f.s.Cast("intruso", Favorevole), rocca.EFORBIDDEN, "council.error.not_member")
	out, err := f.s.CloseVote()
	must(t, err)
	wantErr(t, f.s.Cast(all[0], Favorevole), rocca.ECONFLICT, "council.error.vote_closed")
	if out.Totals != (Totals{Favorevole: 8, Contrario: 5, Astenuto: 3}) || out.Eligible != 16 || len(out.Voters) != 16 {
		t.Fatalf("outcome %+v", out)
	}
	if !slices.Equal(ids(out.ByName[Favorevole]), all[:8]) || !slices.Equal(ids(out.ByName[Contrario]), all[8:13]) ||
		!slices.Equal(ids(out.ByName[Astenuto]), all[13:16]) {
		t.Fatalf("names %+v", out.ByName)
	}
	// The record has each ballot by name, and the result.
	var cast int
	for _, e := range entries(t, f.path) {
		if e.Type == "vote_cast" {
			cast++
			var d struct {
				Member string
				Choice Choice
			}
			must(t, json.Unmarshal(e.Data, &d))
			if i := slices.Index(all, d.Member); i < 0 || choiceFor(i) != d.Choice {
				t.Fatalf("recorded ballot %s", e.Data)
			}
		}
	}
	if cast != 16 {
		t.Fatalf("%d ballots recorded, want 16", cast)
	}
}

// TestCouncilCastForInChamber: in a hybrid session the Secretary enters the ballots of the
// members marked present in the chamber; an open vote records them by name with who entered
// them. A member connected remotely votes from their own device; a member not in the chamber, not
// eligible, or who already voted is refused, each with its own reason.
func TestCouncilCastForInChamber(t *testing.T) {
	f := newFixture(t, assembly17(), QuorumRule{Kind: QuorumMajority})
	all := ids(assembly17())
	for _, id := range all[:9] { // m01…m09 remote, m10 remote too but not marked in the chamber
		f.arrive(t, id)
	}
	f.arrive(t, all[9])
	for _, id := range all[10:13] { // m11…m13 in the chamber
		must(t, f.s.Override(id, true, "in aula", "Luca Gallo"))
	}
	must(t, f.s.Override(all[13], false, "assente giustificato", "Luca Gallo")) // m14
	must(t, f.s.Connect(all[15]))                                               // m16: connected, no media yet
	if _, err := f.s.OpenVote("punto 2", "Approvazione del verbale", false); err != nil {
		t.Fatal(err)
	}
	must(t, f.s.Override(all[14], true, "arrivato in aula", "Luca Gallo")) // m15, after the vote opened

	for i, id := range all[:10] {
		must(t, f.s.Cast(id, choiceFor(i)))
	}
	must(t, f.s.CastFor(all[10], Favorevole, "Luca Gallo"))
	must(t, f.s.CastFor(all[11], Contrario, "Luca Gallo"))
	must(t, f.s.Cast(all[12], Astenuto)) // in the chamber with a device of their own: once only

	wantErr(t, f.s.CastFor(all[10], Contrario, "Luca Gallo"), rocca.ECONFLICT, "council.error.member_voted")
	wantErr(t, f.s.CastFor(all[12], Favorevole, "Luca Gallo"), rocca.ECONFLICT, "council.error.member_voted")
	wantErr(t, f.s.Cast(all[11], Favorevole), rocca.ECONFLICT, "council.error.already_voted")
	wantErr(t, f.s.CastFor(all[0], Favorevole, "Luca Gallo"), rocca.ECONFLICT, "council.error.own_device")
	wantErr(t, f.s.CastFor(all[15], Favorevole, "Luca Gallo"), rocca.ECONFLICT, "council.error.own_device")
	wantErr(t, f.s.CastFor(all[16], Favorevole, "Luca Gallo"), rocca.ECONFLICT, "council.error.not_in_chamber")
	wantErr(t, f.s.CastFor(all[13], Favorevole, "Luca Gallo"), rocca.ECONFLICT, "council.error.not_in_chamber")
	wantErr(t, f.s.CastFor(all[14], Favorevole, "Luca Gallo"), rocca.EFORBIDDEN, "council.error.member_not_eligible")
	wantErr(t, f.s.CastFor(all[14], "sì", "Luca Gallo"), rocca.EINVALID, "council.error.choice")
	wantErr(t, f.s.CastFor(all[14], Favorevole, ""), rocca.EINVALID, "council.error.cast_by")
	wantErr(t, f.s.CastFor("intruso", Favorevole, "Luca Gallo"), rocca.EFORBIDDEN, "council.error.not_member")

	out, err := f.s.CloseVote()
	must(t, err)
	wantErr(t, f.s.CastFor(all[10], Favorevole, "Luca Gallo"), rocca.ECONFLICT, "council.error.vote_closed")
	if out.Totals != (Totals{Favorevole: 9, Contrario: 3, Astenuto: 1}) || out.Eligible != 13 || len(out.Voters) != 13 {
		t.Fatalf("outcome %+v", out)
	}
	if !slices.Contains(ids(out.ByName[Favorevole]), all[10]) || !slices.Contains(ids(out.ByName[Contrario]), all[11]) ||
		!slices.Contains(ids(out.ByName[Astenuto]), all[12]) {
		t.Fatalf("names %+v", out.ByName)
	}
	// Each ballot by name; those the Secretary entered say so, the others have no "by".
	by := map[string]string{}
	for _, e := range entries(t, f.path) {
		if e.Type != "vote_cast" {
			continue
		}
		var d struct {
			Member string
			Choice Choice
			By     *string
		}
		must(t, json.Unmarshal(e.Data, &d))
		if d.By != nil {
			by[d.Member] = *d.By
		} else {
			by[d.Member] = ""
		}
	}
	want := map[string]string{all[10]: "Luca Gallo", all[11]: "Luca Gallo", all[12]: ""}
	for _, id := range all[:10] {
		want[id] = ""
	}
	if !maps.Equal(by, want) {
		t.Fatalf("ballots recorded with who entered them: %v, want %v", by, want)
	}
}

func TestCouncilVoteNeedsQuorum(t *testing.T) {
	f := newFixture(t, assembly17(), QuorumRule{Kind: QuorumMajority})
	_, err := f.s.OpenVote("punto 1", "Testo", false)
	wantErr(t, err, rocca.ECONFLICT, "council.error.no_quorum")
}

// TestSecretVoteUnlinkable runs the same secret vote with two opposite casting orders, each
// with every member voting remotely and with the last four in the chamber (their ballots entered
// by the Secretary), and checks that nothing the package wrote (the whole record file) links a
// member to a ballot, and that who voted is recorded the same way however they voted.
func TestCouncilSecretVoteUnlinkable(t *testing.T) {
	all := ids(assembly17())
	var voterLists [][]byte
	shuffled := false
	for run, c := range []struct {
		order   []int
		chamber int // the last chamber of the 16 voters are in the chamber
	}{{ascending(16), 0}, {descending(16), 0}, {ascending(16), 4}, {descending(16), 4}, {ascending(16), 0}} {
		f := newFixture(t, assembly17(), QuorumRule{Kind: QuorumMajority})
		remote := 16 - c.chamber
		for _, id := range all[:remote] {
			f.arrive(t, id)
		}
		for _, id := range all[remote:16] {
			must(t, f.s.Override(id, true, "presente in aula", "segretario"))
		}
		_, err := f.s.OpenVote("punto 3", "Nomina del revisore", true)
		must(t, err)
		before := len(entries(t, f.path))
		var castOrder []Choice
		for _, i := range c.order {
			if i < remote {
				must(t, f.s.Cast(all[i], choiceFor(i)))
			} else {
				must(t, f.s.CastFor(all[i], choiceFor(i), "segretario"))
			}
			castOrder = append(castOrder, choiceFor(i))
			f.clk.Add(1e9) // time passes between ballots: nothing may carry it
		}
		if n := len(entries(t, f.path)); n != before {
			t.Fatalf("run %d: %d entries written while ballots were cast", run, n-before)
		}
		wantErr(t, f.s.Cast(all[0], Favorevole), rocca.ECONFLICT, "council.error.already_voted")
		if c.chamber > 0 {
			wantErr(t, f.s.CastFor(all[15], Favorevole, "segretario"), rocca.ECONFLICT, "council.error.member_voted")
		}
		out, err := f.s.CloseVote()
		must(t, err)
		if out.Totals != (Totals{Favorevole: 8, Contrario: 5, Astenuto: 3}) || out.ByName != nil {
			t.Fatalf("run %d: outcome %+v", run, out)
		}
		must(t, f.s.Close("presidente", f.key))
		raw, err := os.ReadFile(f.path)
		must(t, err)

		es := entries(t, f.path)
		var voters, closed *Entry
		for i := range es {
			switch es[i].Type {
			case "vote_voters":
				voters = &es[i]
			case "vote_closed":
				closed = &es[i]
			case "vote_cast":
				t.Fatalf("run %d: a secret ballot was recorded: %s", run, es[i].Data)
			}
		}
		if voters == nil || closed == nil || closed.Seq != voters.Seq+1 || closed.Time != voters.Time {
			t.Fatalf("run %d: voters and result not written together: %+v %+v", run, voters, closed)
		}
		// The result names nobody; the voters list has no choices and is by seat whatever the order.
		for _, id := range all {
			if bytes.Contains(closed.Data, []byte(`"`+id+`"`)) {
				t.Fatalf("run %d: result names %s: %s", run, id, closed.Data)
			}
		}
		for _, c := range []string{"favorevole", "contrario", "astenuto"} {
			if bytes.Contains(voters.Data, []byte(c)) {
				t.Fatalf("run %d: voters list carries a choice: %s", run, voters.Data)
			}
		}
		voterLists = append(voterLists, voters.Data)
		// No member id appears in any entry written after the vote opened except the voters list
		// and the session's closing summary (which has no ids); nor does the Secretary who
		// entered ballots.
		for _, e := range es[before:] {
			if bytes.Contains(e.Data, []byte("segretario")) {
				t.Fatalf("run %d: entry %d (%s) names who entered ballots: %s", run, e.Seq, e.Type, e.Data)
			}
			if e.Seq == voters.Seq {
				continue
			}
			for _, id := range all {
				if bytes.Contains(e.Data, []byte(`"`+id+`"`)) {
					t.Fatalf("run %d: entry %d (%s) names %s", run, e.Seq, e.Type, id)
				}
			}
		}
		var d struct{ Ballots []Choice }
		must(t, json.Unmarshal(closed.Data, &d))
		if !slices.Equal(slicesSorted(d.Ballots), slicesSorted(castOrder)) {
			t.Fatalf("run %d: ballots %v are not the ones cast", run, d.Ballots)
		}
		shuffled = shuffled || !slices.Equal(d.Ballots, castOrder)
		if res, err := Verify(bytes.NewReader(raw), nil); err != nil || !res.Valid {
			t.Fatalf("run %d: record not valid: %+v %v", run, res, err)
		}
	}
	for i := 1; i < len(voterLists); i++ {
		if !bytes.Equal(voterLists[0], voterLists[i]) {
			t.Fatalf("voters list depends on the casting order or on who entered the ballots:\n%s\n%s", voterLists[0], voterLists[i])
		}
	}
	// 16!/(8!5!3!) orders: the chance that five shuffles all equal the casting order is nil.
	if !shuffled {
		t.Fatal("ballots were written in the order they were cast")
	}
}

func ascending(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func descending(n int) []int {
	out := ascending(n)
	slices.Reverse(out)
	return out
}

func slicesSorted(cs []Choice) []Choice { return slices.Sorted(slices.Values(cs)) }
