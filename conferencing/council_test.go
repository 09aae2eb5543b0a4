package conferencing

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/conferencing/council"
)

// TestCouncilSession is issue 5's acceptance 1, 2 and 3 against the running server: 17 members
// as Pion clients publishing Opus through the real WebSocket and SFU, a President and a
// Secretary, one session from opening to the sealed record. Each subtest is one criterion and
// builds on the session the previous ones left.
func TestCouncilSession(t *testing.T) {
	const n = 17
	e, m, logs := newCouncilEnv(t, n, true)
	chair := e.newCouncilPeer("presidente", m, councilChair, false)
	secretary := e.newCouncilPeer("segretario", m, councilSecretary, false)
	chair.join()
	secretary.join()
	members := make([]*cpeer, n+1) // by seat
	for i := 1; i < n; i++ {       // the 17th comes later (acceptance 2)
		members[i] = e.newCouncilPeer(fmt.Sprintf("c%02d", i), m, councilMember(i), true)
		members[i].join()
	}
	if chair.role != RoleChair || secretary.role != RoleSecretary || members[1].role != RoleMember {
		t.Fatalf("roles: chair %s, secretary %s, member %s", chair.role, secretary.role, members[1].role)
	}
	id := func(i int) string { return memberID(councilMember(i)) }
	chair.council(ActOpen)
	chair.waitState("16 members connected", func(st councilStateView) bool {
		return st.Opened && countMembers(st, func(ms council.MemberState) bool { return ms.Connected }) == n-1
	})
	record, err := e.svc.CouncilRecordPath(context.Background(), m.PublicID)
	if err != nil || record == "" {
		t.Fatalf("record path %q: %v", record, err)
	}

	ok := t.Run("acceptance 1: roll call, quorum, connection cut", func(t *testing.T) {
		chair.council(ActRollCallStart)
		for i := 1; i <= 8; i++ {
			members[i].council(ActConfirm)
		}
		st := chair.waitState("8 present", func(st councilStateView) bool { return st.RollCall && st.Present == 8 })
		if st.Quorum || st.Required != 9 || st.Assigned != n {
			t.Fatalf("8 of 17 present: quorum %v, required %d of %d; want no quorum, 9 of 17", st.Quorum, st.Required, st.Assigned)
		}
		members[9].council(ActConfirm)
		if st = chair.waitState("9 present", func(st councilStateView) bool { return st.Present == 9 }); !st.Quorum {
			t.Fatal("9 of 17 present and no quorum")
		}
		own := members[9].waitState("own view", func(st councilStateView) bool { return st.Quorum })
		if own.Me != id(9) || own.Role != "member" {
			t.Errorf("member's view: me %q role %q", own.Me, own.Role)
		}

		// A member's connection is cut (WebSocket and media, no goodbye): absent, quorum lost,
		// President and Secretary alerted.
		alerts, salerts := chair.mark(), secretary.mark()
		cut := time.Now()
		members[9].cut()
		st = chair.waitState("member 9 absent", func(st councilStateView) bool {
			ms := memberState(st, id(9))
			return !ms.Connected && !ms.Present && st.Present == 8
		})
		if st.Quorum {
			t.Error("quorum kept with 8 of 17")
		}
		absentWithin(t, record, id(9), "disconnected", cut)
		for _, p := range []*cpeer{chair, secretary} {
			a := p.waitMsg(map[*cpeer]int{chair: alerts, secretary: salerts}[p], "council_alert", nil)
			if a.Key != alertQuorumLost || !strings.Contains(a.Text, "numero legale") {
				t.Errorf("%s alert: %+v", p.name, a)
			}
		}

		// It comes back: present again without confirming twice.
		members[9] = e.newCouncilPeer("c09-again", m, councilMember(9), true)
		members[9].join()
		chair.waitState("member 9 back", func(st councilStateView) bool { return st.Present == 9 && st.Quorum })

		// A member whose media stops (the connection stays) is absent too.
		stopped := time.Now()
		members[8].sending.Store(false)
		st = chair.waitState("member 8 without media", func(st councilStateView) bool {
			ms := memberState(st, id(8))
			return ms.Connected && !ms.Present && st.Present == 8
		})
		if st.Quorum {
			t.Error("quorum kept with 8 of 17")
		}
		absentWithin(t, record, id(8), "media_lost", stopped)
		members[8].sending.Store(true)
		chair.waitState("member 8 back", func(st councilStateView) bool { return st.Present == 9 && st.Quorum })

		for i := 10; i < n; i++ {
			members[i].council(ActConfirm)
		}
		chair.waitState("16 present", func(st councilStateView) bool { return st.Present == n-1 })
		chair.council(ActRollCallClose)
		st = chair.waitState("roll call result", func(st councilStateView) bool { return st.LastRollCall != nil })
		rc := st.LastRollCall
		if rc.Counted != n-1 || !rc.Quorum || rc.Required != 9 || len(rc.Present) != n-1 || len(rc.Absent) != 1 ||
			rc.Absent[0].ID != id(17) || rc.Present[0].Name != "Consigliere 01" {
			t.Errorf("roll call: %+v", rc)
		}
	})
	if !ok {
		return
	}

	// Open votes: the members' ballots, by seat.
	vote1 := func(i int) council.Choice { return choiceBySeat(i, 9, 13) } // 9 favorevoli, 4 contrari, 3 astenuti
	vote2 := func(i int) council.Choice { return choiceBySeat(i, 10, 15) }

	ok = t.Run("acceptance 2: open votes by name, latecomer and second ballot refused", func(t *testing.T) {
		chair.council(ActVoteOpen, "item", "1", "text", "Approvazione del verbale della seduta precedente")
		chair.waitState("vote 1 open", func(st councilStateView) bool { return st.Vote != nil && st.Vote.N == 1 })

		members[n] = e.newCouncilPeer("c17", m, councilMember(n), true)
		members[n].join()
		members[n].council(ActConfirm)
		late := members[n].waitState("17 present", func(st councilStateView) bool { return st.Present == n && st.Vote != nil })
		if late.CanVote || late.Me != id(n) {
			t.Errorf("latecomer may vote: %+v", late)
		}
		for i := 1; i < n; i++ {
			members[i].council(ActVoteCast, "choice", string(vote1(i)))
		}
		chair.waitState("16 ballots", func(st councilStateView) bool { return st.Vote != nil && st.Vote.Cast == n-1 })
		members[1].waitState("you voted", func(st councilStateView) bool { return st.Voted && !st.CanVote })

		mark := members[n].mark()
		members[n].council(ActVoteCast, "choice", "favorevole")
		refusal := members[n].waitError(mark, "council.error.not_eligible")
		if refusal.Code != "forbidden" || refusal.Message != e.cat.T("it", "council.error.not_eligible") {
			t.Errorf("latecomer's refusal: %+v", refusal)
		}
		mark = members[1].mark()
		members[1].council(ActVoteCast, "choice", "contrario")
		if twice := members[1].waitError(mark, "council.error.already_voted"); twice.Message != e.cat.T("it", "council.error.already_voted") {
			t.Errorf("second ballot: %+v", twice)
		}
		chair.council(ActVoteClose)
		checkOpenResult(t, members[5], 1, n-1, vote1, council.Totals{Favorevole: 9, Contrario: 4, Astenuto: 3})

		// The same with all 17.
		chair.council(ActVoteOpen, "item", "2", "text", "Bilancio di previsione 2026: approvazione")
		members[n].waitState("vote 2 open", func(st councilStateView) bool { return st.CanVote && st.Vote.N == 2 })
		for i := 1; i <= n; i++ {
			members[i].council(ActVoteCast, "choice", string(vote2(i)))
		}
		chair.waitState("17 ballots", func(st councilStateView) bool { return st.Vote != nil && st.Vote.Cast == n })
		chair.council(ActVoteClose)
		checkOpenResult(t, secretary, 2, n, vote2, council.Totals{Favorevole: 10, Contrario: 5, Astenuto: 2})
	})
	if !ok {
		return
	}

	t.Run("acceptance 3: secret vote, no link between member and ballot", func(t *testing.T) {
		chair.council(ActVoteOpen, "item", "2", "text", "Nomina del revisore dei conti", "secret", true)
		chair.waitState("vote 3 open", func(st councilStateView) bool { return st.Vote != nil && st.Vote.N == 3 && st.Vote.Secret })
		// One at a time in a known order, so that the record's order can be compared with it.
		secret := []council.Choice{}
		var want council.Totals
		for i := 1; i <= n; i++ {
			c := []council.Choice{council.Contrario, council.Favorevole, council.Astenuto, council.Favorevole}[i%4]
			secret = append(secret, c)
			*map[council.Choice]*int{council.Favorevole: &want.Favorevole, council.Contrario: &want.Contrario,
				council.Astenuto: &want.Astenuto}[c]++
			members[i].council(ActVoteCast, "choice", string(c))
			chair.waitState(fmt.Sprintf("ballot %d", i), func(st councilStateView) bool { return st.Vote != nil && st.Vote.Cast == i })
		}
		chair.council(ActVoteClose)
		st := members[3].waitState("result of vote 3", func(st councilStateView) bool { return st.LastResult != nil && st.LastResult.N == 3 })
		if r := st.LastResult; !r.Secret || r.Totals != want || r.ByName != nil || len(r.Voters) != n || r.Eligible != n {
			t.Errorf("secret result: %+v, want totals %+v", r, want)
		}

		chair.council(ActClose)
		chair.waitState("session closed", func(st councilStateView) bool { return st.Closed && !st.Opened })
		c, err := e.svc.Council(context.Background(), m.PublicID)
		if err != nil || c.State != CouncilClosed || filepath.Join(e.svc.cfg.CouncilDir, c.RecordFile) != record {
			t.Fatalf("after close: %+v, %v", c, err)
		}
		votes, err := e.svc.CouncilVotes(context.Background(), m.PublicID)
		if err != nil || len(votes) != 3 || votes[0].Totals != (council.Totals{Favorevole: 9, Contrario: 4, Astenuto: 3}) ||
			votes[1].Totals != (council.Totals{Favorevole: 10, Contrario: 5, Astenuto: 2}) || votes[2].Totals != want ||
			!votes[2].Secret || votes[2].Eligible != n {
			t.Errorf("stored totals: %+v, %v", votes, err)
		}

		names := map[string]bool{}
		for i := 1; i <= n; i++ {
			names[id(i)], names[testUsers[councilMember(i)].Name], names[testUsers[councilMember(i)].Email] = true, true, true
		}
		checkRecordSecret(t, record, 3, secret, names)
		checkDatabaseSecret(t, e)
		if line := lineWithChoice(logs.String()); line != "" {
			t.Errorf("a log line names a choice: %s", line)
		}
	})
}

// choiceBySeat: seats up to fav vote favorevole, up to contr contrario, the rest astenuto.
func choiceBySeat(seat, fav, contr int) council.Choice {
	switch {
	case seat <= fav:
		return council.Favorevole
	case seat <= contr:
		return council.Contrario
	}
	return council.Astenuto
}

func countMembers(st councilStateView, f func(council.MemberState) bool) int {
	n := 0
	for _, m := range st.Members {
		if f(m) {
			n++
		}
	}
	return n
}

// checkOpenResult waits for the result of open vote n as p sees it and checks the totals and
// every name, by seat.
func checkOpenResult(t *testing.T, p *cpeer, n, voters int, choice func(int) council.Choice, want council.Totals) {
	t.Helper()
	st := p.waitState(fmt.Sprintf("result of vote %d", n), func(st councilStateView) bool {
		return st.LastResult != nil && st.LastResult.N == n
	})
	r := st.LastResult
	if r.Secret || r.Totals != want || r.Eligible != voters || len(r.Voters) != voters {
		t.Errorf("vote %d: %+v, want totals %+v of %d", n, r, want, voters)
	}
	for _, c := range []council.Choice{council.Favorevole, council.Contrario, council.Astenuto} {
		var got, exp []string
		for _, m := range r.ByName[c] {
			got = append(got, m.Name)
		}
		for seat := 1; seat <= voters; seat++ {
			if choice(seat) == c {
				exp = append(exp, fmt.Sprintf("Consigliere %02d", seat))
			}
		}
		if !slices.Equal(got, exp) {
			t.Errorf("vote %d, %s: %v, want %v", n, c, got, exp)
		}
	}
}

// recordEntries reads the record's entries (the seal line, if any, is left out).
func recordEntries(t *testing.T, path string) []council.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []council.Entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var e council.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		if e.Seq > 0 {
			out = append(out, e)
		}
	}
	return out
}

// absentWithin checks, by the server's clock in the record, that member id was marked absent
// (for reason) within 10 s of since.
func absentWithin(t *testing.T, path, id, reason string, since time.Time) {
	t.Helper()
	for _, e := range recordEntries(t, path) {
		var d struct {
			Member  string `json:"member"`
			Present bool   `json:"present"`
			Reason  string `json:"reason"`
		}
		at, _ := time.Parse(time.RFC3339Nano, e.Time)
		if e.Type != "presence" || json.Unmarshal(e.Data, &d) != nil || d.Member != id || d.Present || at.Before(since.Truncate(time.Millisecond)) {
			continue
		}
		if d.Reason != reason || at.Sub(since) > 10*time.Second {
			t.Errorf("%s absent after %s (%s), want within 10 s (%s)", id, at.Sub(since), d.Reason, reason)
		}
		return
	}
	t.Errorf("no absence of %s in the record", id)
}

var choiceWord = regexp.MustCompile(`(?i)favorevol|contrari|astenut`)

// lineWithChoice returns a line of text that mentions a choice, or "".
func lineWithChoice(text string) string {
	for line := range strings.Lines(text) {
		if choiceWord.MatchString(line) {
			return line
		}
	}
	return ""
}

// checkRecordSecret checks the sealed record: it verifies, and nothing in it links a member to a
// ballot of secret vote n. The ballots appear once, in the vote_closed batch, with no member,
// and not in the order they were cast; who voted is a separate entry without choices.
func checkRecordSecret(t *testing.T, path string, n int, cast []council.Choice, members map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := council.Verify(f, nil)
	if err != nil || !res.Valid {
		t.Fatalf("record does not verify: %+v, %v", res, err)
	}
	var secretOpen, closed, voters bool
	for _, e := range recordEntries(t, path) {
		var d struct {
			Vote    int              `json:"vote"`
			Secret  bool             `json:"secret"`
			Ballots []council.Choice `json:"ballots"`
			Totals  council.Totals   `json:"totals"`
		}
		_ = json.Unmarshal(e.Data, &d)
		data := string(e.Data)
		named := false
		for m := range members {
			named = named || strings.Contains(data, m)
		}
		choice := choiceWord.MatchString(data)
		switch {
		case e.Type == "vote_opened" && d.Vote == n:
			secretOpen = true
		case !secretOpen || closed:
			if named && choice && !(e.Type == "vote_cast" || e.Type == "vote_closed" && !d.Secret) {
				t.Errorf("entry %d (%s) names a member and a choice", e.Seq, e.Type)
			}
		case e.Type == "vote_voters":
			voters = true
			if choice {
				t.Errorf("the list of voters mentions a choice: %s", data)
			}
		case e.Type == "vote_closed":
			closed = true
			if named || len(d.Ballots) != len(cast) || slices.Equal(d.Ballots, cast) {
				t.Errorf("secret vote_closed: named %v, ballots %v (cast %v)", named, d.Ballots, cast)
			}
		case choice:
			t.Errorf("entry %d (%s) during the secret vote mentions a choice: %s", e.Seq, e.Type, data)
		}
	}
	if !closed || !voters {
		t.Errorf("secret vote in the record: closed %v, voters listed %v", closed, voters)
	}
}

// checkDatabaseSecret searches the database: no row of any table holds a choice, and in the
// file's bytes (WAL included) the choices appear only as the column names of the totals.
func checkDatabaseSecret(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		_ = rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		if table == "sqlite_sequence" {
			continue
		}
		rs, err := e.db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			_ = rs.Scan(ptrs...)
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			if line := lineWithChoice(fmt.Sprint(vals...)); line != "" {
				t.Errorf("table %s holds a choice: %v", table, vals)
			}
		}
		rs.Close()
	}
	files, _ := filepath.Glob(filepath.Join(e.dir, "rocca.db*"))
	column := regexp.MustCompile(`(?i)(favorevole|contrario|astenuto)\s+INTEGER`)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if n, cols := len(choiceWord.FindAll(b, -1)), len(column.FindAll(b, -1)); n != cols {
			t.Errorf("%s: %d mentions of a choice, %d of them column names", filepath.Base(f), n, cols)
		}
	}
}
