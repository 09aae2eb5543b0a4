package conferencing

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/conferencing/council"
)

// TestCouncilHybrid: a hybrid session against the running server. Two members are connected
// (Pion clients publishing audio), fourteen sit in the chamber: the Secretary marks them present
// with the note "in aula" and enters their ballots (vote_cast with a target). An open vote
// records those ballots by name with who entered them; a secret vote takes them into the bag
// like the remote ones, with nothing linking member and ballot in the record, the database or
// the logs. Entering a ballot is refused, each time with its own message, to anyone but the
// Secretary, for a member connected remotely, for one not in the chamber, for one marked present
// after the vote opened, and twice.
func TestCouncilHybrid(t *testing.T) {
	const n = 18
	e, m, logs := newCouncilEnv(t, n, false)
	chair := e.newCouncilPeer("presidente", m, councilChair, false)
	secretary := e.newCouncilPeer("segretario", m, councilSecretary, false)
	chair.join()
	secretary.join()
	id := func(i int) string { return memberID(councilMember(i)) }
	name := func(i int) string { return testUsers[councilMember(i)].Name }
	secretaryName := testUsers[councilSecretary].Name
	chamber := []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16} // seat 17 is connected, 18 away
	remote := map[int]*cpeer{}
	for _, i := range []int{1, 2} {
		remote[i] = e.newCouncilPeer(fmt.Sprintf("c%02d", i), m, councilMember(i), true)
		remote[i].join()
	}
	away := e.newCouncilPeer("c17", m, councilMember(17), false) // connected, no media: not present
	away.join()

	chair.council(ActOpen)
	chair.waitState("open", func(st councilStateView) bool { return st.Opened })
	record, err := e.svc.CouncilRecordPath(context.Background(), m.PublicID)
	if err != nil || record == "" {
		t.Fatalf("record path %q: %v", record, err)
	}
	for _, p := range remote {
		p.council(ActConfirm)
	}
	for _, i := range chamber {
		secretary.council(ActOverride, "target", id(i), "present", true, "note", "in aula")
	}
	st := chair.waitState("16 present", func(st councilStateView) bool { return st.Present == 16 && st.Quorum })
	if ms := memberState(st, id(3)); ms.Connected || ms.Override != "in aula" {
		t.Fatalf("member in the chamber: %+v", ms)
	}

	// An open vote: the Secretary enters the ballots of those in the chamber.
	chair.council(ActVoteOpen, "item", "1", "text", "Approvazione del verbale della seduta precedente")
	st = secretary.waitState("vote 1 with the chamber", func(st councilStateView) bool {
		return st.Vote != nil && st.Vote.N == 1 && len(st.Chamber) == len(chamber)
	})
	for _, c := range st.Chamber {
		if !c.CanVote || c.Voted {
			t.Errorf("before any ballot, the secretary sees %+v", c)
		}
	}
	for _, p := range []*cpeer{chair, remote[1]} {
		if got := p.waitState("vote 1", func(st councilStateView) bool { return st.Vote != nil }); got.Chamber != nil {
			t.Errorf("%s receives the chamber list: %+v", p.name, got.Chamber)
		}
	}
	open := func(i int) council.Choice { return choiceBySeat(i, 9, 14) } // 9 favorevoli, 5 contrari, the rest astenuti
	secretary.council(ActVoteCast, "target", id(3), "choice", string(open(3)))
	st = secretary.waitState("member 3 voted", func(st councilStateView) bool {
		c := chamberOf(st, id(3))
		return c != nil && c.Voted && !c.CanVote
	})
	if st.Vote.Cast != 1 {
		t.Errorf("cast %d after the first ballot", st.Vote.Cast)
	}

	refused := func(p *cpeer, reason, key string, args []any, kv ...any) {
		t.Helper()
		mark := p.mark()
		p.council(ActVoteCast, kv...)
		got := p.waitError(mark, reason)
		if want := e.cat.T("it", key, args...); got.Message != want || got.Ref != TypeCouncil {
			t.Errorf("%s, %v: %q (ref %q), want %q", p.name, kv, got.Message, got.Ref, want)
		}
	}
	refused(secretary, "council.error.member_voted", "council.error.member_voted", []any{name(3)},
		"target", id(3), "choice", "contrario")
	refused(secretary, "council.error.own_device", "council.error.own_device", []any{name(17)},
		"target", id(17), "choice", "favorevole")
	refused(secretary, "council.error.own_device", "council.error.own_device", []any{name(1)},
		"target", id(1), "choice", "favorevole")
	refused(secretary, "council.error.not_in_chamber", "council.error.not_in_chamber", []any{name(18)},
		"target", id(18), "choice", "favorevole")
	refused(secretary, "council_no_member", "conf.error.council_no_member", nil, "target", "u999", "choice", "favorevole")
	refused(chair, "council_cast_secretary_only", "conf.error.council_cast_secretary_only", nil,
		"target", id(4), "choice", "favorevole")
	refused(remote[1], "council_cast_secretary_only", "conf.error.council_cast_secretary_only", nil,
		"target", id(4), "choice", "favorevole")
	// Seat 18 arrives in the chamber after the vote opened.
	secretary.council(ActOverride, "target", id(18), "present", true, "note", "arrivato in aula")
	secretary.waitState("seat 18 in the chamber", func(st councilStateView) bool {
		c := chamberOf(st, id(18))
		return c != nil && !c.CanVote && !c.Voted
	})
	refused(secretary, "council.error.member_not_eligible", "council.error.member_not_eligible", []any{name(18)},
		"target", id(18), "choice", "favorevole")

	for _, i := range chamber[1:] {
		secretary.council(ActVoteCast, "target", id(i), "choice", string(open(i)))
	}
	for i, p := range remote {
		p.council(ActVoteCast, "choice", string(open(i)))
	}
	secretary.waitState("16 ballots", func(st councilStateView) bool { return st.Vote != nil && st.Vote.Cast == 16 })
	refused(remote[1], "council.error.already_voted", "council.error.already_voted", nil, "choice", "contrario")
	chair.council(ActVoteClose)
	st = remote[2].waitState("result of vote 1", func(st councilStateView) bool { return st.LastResult != nil && st.LastResult.N == 1 })
	if r := st.LastResult; r.Secret || r.Eligible != 16 || len(r.Voters) != 16 ||
		r.Totals != (council.Totals{Favorevole: 9, Contrario: 5, Astenuto: 2}) {
		t.Errorf("vote 1: %+v", r)
	}
	for _, c := range []council.Choice{council.Favorevole, council.Contrario, council.Astenuto} {
		var got, want []string
		for _, mb := range st.LastResult.ByName[c] {
			got = append(got, mb.Name)
		}
		for i := 1; i <= 16; i++ {
			if open(i) == c {
				want = append(want, name(i))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("vote 1, %s: %v, want %v", c, got, want)
		}
	}
	// The record names each ballot; those entered in the chamber say by whom.
	by := map[string]string{}
	for _, en := range recordEntries(t, record) {
		if en.Type != "vote_cast" {
			continue
		}
		var d map[string]any
		_ = json.Unmarshal(en.Data, &d)
		b, _ := d["by"].(string)
		by[d["member"].(string)] = b
	}
	want := map[string]string{id(1): "", id(2): ""}
	for _, i := range chamber {
		want[id(i)] = secretaryName
	}
	if !maps.Equal(by, want) {
		t.Errorf("vote_cast entries with who entered them: %v, want %v", by, want)
	}

	// A secret vote: 17 ballots, 15 of them entered by the Secretary, one at a time in a known
	// order so that the record's order can be compared with it.
	chair.council(ActVoteOpen, "item", "2", "text", "Nomina del revisore dei conti", "secret", true)
	secretary.waitState("vote 2", func(st councilStateView) bool { return st.Vote != nil && st.Vote.N == 2 && st.Vote.Secret })
	var cast []council.Choice
	var totals council.Totals
	voters := append([]int{1}, chamber[:7]...)
	voters = append(voters, 2)
	voters = append(voters, chamber[7:]...)
	voters = append(voters, 18)
	for k, i := range voters {
		c := []council.Choice{council.Contrario, council.Favorevole, council.Astenuto, council.Favorevole}[k%4]
		cast = append(cast, c)
		*map[council.Choice]*int{council.Favorevole: &totals.Favorevole, council.Contrario: &totals.Contrario,
			council.Astenuto: &totals.Astenuto}[c]++
		if p := remote[i]; p != nil {
			p.council(ActVoteCast, "choice", string(c))
		} else {
			secretary.council(ActVoteCast, "target", id(i), "choice", string(c))
		}
		secretary.waitState(fmt.Sprintf("ballot %d", k+1), func(st councilStateView) bool { return st.Vote != nil && st.Vote.Cast == k+1 })
	}
	st = secretary.waitState("the chamber voted", func(st councilStateView) bool { return st.Vote != nil && len(st.Chamber) == 15 })
	for _, c := range st.Chamber {
		if !c.Voted || c.CanVote {
			t.Errorf("after the secret ballots the secretary sees %+v", c)
		}
	}
	refused(secretary, "council.error.member_voted", "council.error.member_voted", []any{name(5)},
		"target", id(5), "choice", "favorevole")
	chair.council(ActVoteClose)
	st = remote[1].waitState("result of vote 2", func(st councilStateView) bool { return st.LastResult != nil && st.LastResult.N == 2 })
	if r := st.LastResult; !r.Secret || r.Totals != totals || r.ByName != nil || len(r.Voters) != len(voters) || r.Eligible != len(voters) {
		t.Errorf("secret result: %+v, want totals %+v of %d", r, totals, len(voters))
	}
	chair.council(ActClose)
	chair.waitState("session closed", func(st councilStateView) bool { return st.Closed })

	names := map[string]bool{secretaryName: true, testUsers[councilSecretary].Email: true}
	for i := 1; i <= n; i++ {
		names[id(i)], names[name(i)], names[testUsers[councilMember(i)].Email] = true, true, true
	}
	checkRecordSecret(t, record, 2, cast, names)
	checkVotersUniform(t, record, 2)
	checkDatabaseSecret(t, e)
	if line := lineWithChoice(logs.String()); line != "" {
		t.Errorf("a log line names a choice: %s", line)
	}
}

// chamberOf is member id's line of the secretary's chamber list, or nil.
func chamberOf(st councilStateView, id string) *chamberVote {
	for i := range st.Chamber {
		if st.Chamber[i].ID == id {
			return &st.Chamber[i]
		}
	}
	return nil
}

// checkVotersUniform checks that the list of who voted in secret vote n says the same of every
// voter (id, name, seat, counts_for_quorum), whether the ballot came from their device or from
// the Secretary in the chamber, and that nothing written while the vote was open names the
// Secretary.
func checkVotersUniform(t *testing.T, path string, n int) {
	t.Helper()
	open := false
	for _, e := range recordEntries(t, path) {
		var d struct {
			Vote   int              `json:"vote"`
			Voters []map[string]any `json:"voters"`
		}
		_ = json.Unmarshal(e.Data, &d)
		switch {
		case e.Type == "vote_opened" && d.Vote == n:
			open = true
		case open && e.Type == "vote_voters":
			for _, v := range d.Voters {
				if keys := slices.Sorted(maps.Keys(v)); !slices.Equal(keys, []string{"counts_for_quorum", "id", "name", "seat"}) {
					t.Errorf("a voter is listed with %v", keys)
				}
			}
		case open && e.Type == "vote_closed":
			return
		case open && strings.Contains(string(e.Data), testUsers[councilSecretary].Name):
			t.Errorf("entry %d (%s) during the secret vote names the Secretary: %s", e.Seq, e.Type, e.Data)
		}
	}
	t.Errorf("secret vote %d not closed in the record", n)
}
