package council

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// minutesRun is a realistic session played through the Session API, with what the Session
// returned along the way: the minutes must say the same.
type minutesRun struct {
	record    []byte
	pub       ed25519.PublicKey
	members   []Member
	rollCalls []RollCall
	votes     []Outcome
	voteTexts []string
	recStart  time.Time // when the recording started
	granted   time.Time // when the first speaker got the floor
}

const (
	president = "m01" // the President is the member in seat 1: the minutes show the name
	secretary = "segretario"
)

// playSession runs: arrivals, a roll call with a Secretary's override, the recording, speaking
// turns, an open vote, a departure and a reconnection, a suspension, a closed-session secret
// vote, a recording file, a second roll call, close and seal. title and texts may carry markup.
func playSession(t testing.TB, title string, voteTexts [2]string) *minutesRun {
	t.Helper()
	ms := assembly17()
	ms[4].Name = "Niccolò D'Angelo" // accents and an apostrophe travel through every format
	path := filepath.Join(t.TempDir(), "s7.record")
	rec, err := CreateRecord(path)
	must(t, err)
	t.Cleanup(func() { _ = rec.Close() })
	clk := &clock{t: time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)}
	s, err := New(Config{ID: "s7", Title: title, Public: true, Members: ms, Quorum: QuorumRule{Kind: QuorumMajority},
		Agenda: []AgendaItem{{1, "Approvazione dei verbali della seduta precedente"}, {2, "Nomina del revisore dei conti"},
			{3, "Comunicazioni del Sindaco"}},
		MediaWindow: 10 * time.Second, Now: clk.Now, Record: rec})
	must(t, err)
	f := &fixture{s: s, clk: clk, path: path}
	run := &minutesRun{members: ms, voteTexts: voteTexts[:]}
	all := ids(ms)
	cast := func(id string, c Choice) { t.Helper(); must(t, s.Cast(id, c)) }

	for _, id := range all[:8] {
		f.arrive(t, id)
		clk.Add(20 * time.Second)
	}
	must(t, s.StartRollCall(president))
	f.arrive(t, all[8])
	f.arrive(t, all[9])
	must(t, s.Connect(all[11])) // connected with media, never says "presente": absent
	must(t, s.MediaReceived(all[11]))
	must(t, s.Override(all[10], true, "presente in aula", secretary))
	clk.Add(time.Minute)
	rc, err := s.CloseRollCall(president)
	must(t, err)
	run.rollCalls = append(run.rollCalls, rc)

	clk.Add(30 * time.Second)
	must(t, s.RecordingStarted(president))
	run.recStart = clk.Now()
	clk.Add(time.Minute)
	for _, id := range []string{all[2], all[4], all[6]} {
		must(t, s.RequestFloor(id))
	}
	must(t, s.WithdrawFloor(all[6]))
	clk.Add(10 * time.Second)
	if who, err := s.GrantFloor("", president, 3*time.Minute); err != nil || who != all[2] {
		t.Fatalf("grant floor: %s %v", who, err)
	}
	run.granted = clk.Now()
	clk.Add(2 * time.Minute)
	_, err = s.GrantFloor(all[4], president, 0)
	must(t, err)
	clk.Add(90 * time.Second)
	must(t, s.RevokeFloor(president))

	clk.Add(30 * time.Second)
	_, err = s.OpenVote("1", voteTexts[0], false)
	must(t, err)
	clk.Add(10 * time.Second)
	f.arrive(t, all[12]) // after the vote opened: may not vote in it
	for i, id := range all[:9] {
		cast(id, []Choice{Favorevole, Favorevole, Favorevole, Favorevole, Favorevole, Favorevole, Contrario, Contrario, Astenuto}[i])
	}
	clk.Add(time.Minute)
	out, err := s.CloseVote()
	must(t, err)
	run.votes = append(run.votes, out)

	clk.Add(time.Minute)
	must(t, s.Disconnect(all[9]))
	clk.Add(2 * time.Minute)
	must(t, s.Connect(all[9]))
	must(t, s.MediaReceived(all[9]))
	must(t, s.Suspend(president, "interruzione del collegamento audio"))
	clk.Add(10 * time.Minute)
	must(t, s.Resume(president))
	must(t, s.SetPublic(false, president))
	clk.Add(30 * time.Second)
	_, err = s.OpenVote("2", voteTexts[1], true)
	must(t, err)
	for i, id := range []string{all[0], all[1], all[2], all[3], all[4], all[5], all[12]} {
		cast(id, []Choice{Favorevole, Favorevole, Contrario, Contrario, Contrario, Contrario, Astenuto}[i])
		clk.Add(5 * time.Second)
	}
	out, err = s.CloseVote()
	must(t, err)
	run.votes = append(run.votes, out)
	must(t, s.SetPublic(true, president))
	clk.Add(time.Minute)
	must(t, s.RecordingStopped(president))
	must(t, s.RecordingFile("s7-m01-audio.webm", strings.Repeat("ab", 32), 123456))
	must(t, s.Disconnect(all[11]))

	must(t, s.StartRollCall(president))
	clk.Add(time.Minute)
	rc, err = s.CloseRollCall(president)
	must(t, err)
	run.rollCalls = append(run.rollCalls, rc)
	must(t, s.ClearOverride(all[10], secretary))
	clk.Add(time.Minute)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	must(t, s.Close(president, key))
	run.pub = key.Public().(ed25519.PublicKey)
	run.record, err = os.ReadFile(path)
	must(t, err)
	return run
}

var defaultTexts = [2]string{"Approvazione del verbale della seduta del 15 febbraio 2025",
	"Nomina del revisore dei conti per il triennio 2025-2027"}

func readRun(t testing.TB, run *minutesRun) *Minutes {
	t.Helper()
	m, err := ReadMinutes(bytes.NewReader(run.record))
	must(t, err)
	return m
}

func catalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	c, err := i18n.New()
	must(t, err)
	return c
}

// TestMinutesMatchRecord compares the minutes with what the Session itself returned: the roll
// calls, the outcomes of the votes, and the events the test caused.
func TestMinutesMatchRecord(t *testing.T) {
	run := playSession(t, "Consiglio comunale di Esempio", defaultTexts)
	m := readRun(t, run)

	if !m.Sealed || !m.Valid || m.Problem != ProblemNone || m.Skipped != 0 {
		t.Fatalf("record state: sealed %v valid %v problem %q skipped %d", m.Sealed, m.Valid, m.Problem, m.Skipped)
	}
	if want := (Result{PublicKey: run.pub}).Fingerprint(); m.Fingerprint != want {
		t.Fatalf("fingerprint %q, want %q", m.Fingerprint, want)
	}
	if lines := bytes.Count(run.record, []byte("\n")); m.Entries != lines-1 || len(m.Events) != lines-1 {
		t.Fatalf("%d entries, %d events for %d lines", m.Entries, len(m.Events), lines)
	}
	if m.Session != "s7" || m.Title != "Consiglio comunale di Esempio" || !m.Public || len(m.Agenda) != 3 ||
		m.Agenda[1] != (AgendaItem{2, "Nomina del revisore dei conti"}) || m.QuorumRule.Kind != QuorumMajority {
		t.Fatalf("session data: %+v", m)
	}
	if !m.Closed.Valid() || m.ClosedBy != president || !m.Closed.Time.After(m.Opened.Time) {
		t.Fatalf("opened %+v closed %+v by %q", m.Opened, m.Closed, m.ClosedBy)
	}

	// Members and roll calls: exactly what CloseRollCall returned.
	if got := attendanceIDs(m.Members); !slices.Equal(got, ids(run.members)) {
		t.Fatalf("members %v", got)
	}
	if len(m.RollCalls) != len(run.rollCalls) {
		t.Fatalf("%d roll calls, the session held %d", len(m.RollCalls), len(run.rollCalls))
	}
	for i, want := range run.rollCalls {
		got := m.RollCalls[i]
		if !slices.Equal(ids(got.Present), ids(want.Present)) || !slices.Equal(ids(got.Absent), ids(want.Absent)) ||
			got.Counted != want.Counted || got.Required != want.Required || got.Quorum != want.Quorum ||
			!got.Started.Valid() || !got.Closed.Valid() || got.ClosedBy != president {
			t.Fatalf("roll call %d: %+v, session said %+v", i+1, got, want)
		}
		for _, a := range m.Members {
			if a.RollCalls[i] != slices.Contains(ids(want.Present), a.ID) {
				t.Fatalf("roll call %d: %s marked %v", i+1, a.ID, a.RollCalls[i])
			}
		}
	}
	if rc := m.RollCalls[0]; len(rc.Present) != 11 || rc.Counted != 11 || rc.Required != 9 || !rc.Quorum {
		t.Fatalf("first roll call %+v", rc)
	}

	// Votes: exactly the outcomes CloseVote returned.
	if len(m.Votes) != len(run.votes) {
		t.Fatalf("%d votes, the session held %d", len(m.Votes), len(run.votes))
	}
	for i, want := range run.votes {
		got := m.Votes[i]
		if got.N != want.N || got.Item != want.Item || got.Secret != want.Secret || got.Totals != want.Totals ||
			len(got.Eligible) != want.Eligible || !slices.Equal(ids(got.Voters), ids(want.Voters)) ||
			got.Text != run.voteTexts[i] || !got.Opened.Valid() || !got.Closed.Valid() {
			t.Fatalf("vote %d: %+v, session said %+v", i+1, got, want)
		}
		for _, c := range []Choice{Favorevole, Contrario, Astenuto} {
			if !slices.Equal(ids(got.ByName[c]), ids(want.ByName[c])) {
				t.Fatalf("vote %d, %s: %v, session said %v", i+1, c, ids(got.ByName[c]), ids(want.ByName[c]))
			}
		}
	}
	if v := m.Votes[0]; v.Result != ResultApproved || v.Totals != (Totals{6, 2, 1}) || len(v.Eligible) != 11 {
		t.Fatalf("open vote: %+v", v)
	}
	if v := m.Votes[1]; v.Result != ResultRejected || v.ByName != nil || v.Totals != (Totals{2, 4, 1}) || len(v.Eligible) != 12 {
		t.Fatalf("secret vote: %+v", v)
	}

	// Attendance details.
	byID := map[string]Attendance{}
	for _, a := range m.Members {
		byID[a.ID] = a
	}
	if o := byID["m11"].Overrides; len(o) != 1 || !o[0].Present || o[0].Note != "presente in aula" || o[0].By != secretary ||
		!o[0].Cleared.Valid() || o[0].ClearedBy != secretary {
		t.Fatalf("m11 overrides %+v", o)
	}
	if kinds := movementKinds(byID["m10"]); !slices.Equal(kinds, []string{"arrival", "departure", "reconnection"}) {
		t.Fatalf("m10 movements %v", kinds)
	}
	if p := byID["m10"].Presence; len(p) != 2 || !p[0].To.Valid() || !p[1].To.Valid() || p[1].To != m.Closed {
		t.Fatalf("m10 presence %+v", p)
	}
	if a := byID["m12"]; len(a.Presence) != 0 || len(a.Confirmations) != 0 || len(a.Movements) != 2 {
		t.Fatalf("m12 (connected, never present): %+v", a)
	}
	if a := byID["m17"]; len(a.Movements) != 0 || slices.Contains(a.RollCalls, true) {
		t.Fatalf("m17 (never came): %+v", a)
	}

	// Speaking turns, with their durations and offsets into the recording.
	if len(m.Turns) != 2 {
		t.Fatalf("turns %+v", m.Turns)
	}
	t1, t2 := m.Turns[0], m.Turns[1]
	if t1.ID != "m03" || t1.Limit != 3*time.Minute || t1.Duration() != 2*time.Minute || t1.EndedBy != president ||
		t1.Granted.Recording != 1 || t1.Granted.Offset != run.granted.Sub(run.recStart) {
		t.Fatalf("first turn %+v", t1)
	}
	if t2.ID != "m05" || t2.Limit != 0 || t2.Duration() != 90*time.Second || !t2.Ended.Valid() {
		t.Fatalf("second turn %+v", t2)
	}

	// Recording: offsets only while it runs, counted from its start.
	if len(m.Recordings) != 1 || m.Recordings[0].Started.Time != run.recStart || !m.Recordings[0].Stopped.Valid() {
		t.Fatalf("recordings %+v", m.Recordings)
	}
	if len(m.Files) != 1 || m.Files[0].File != "s7-m01-audio.webm" || m.Files[0].SHA256 != strings.Repeat("ab", 32) ||
		m.Files[0].Size != 123456 {
		t.Fatalf("files %+v", m.Files)
	}
	running := false
	for _, e := range m.Events {
		running = running || e.Type == "recording_started"
		want := time.Duration(0)
		if running {
			want = e.Time.Sub(run.recStart)
		}
		if (e.Recording == 1) != running || e.Offset != want {
			t.Fatalf("event %d (%s): recording %d offset %v, want running %v offset %v", e.Seq, e.Type, e.Recording, e.Offset, running, want)
		}
		running = running && e.Type != "recording_stopped"
	}

	// Suspension, public switches, quorum.
	if len(m.Suspensions) != 1 || m.Suspensions[0].Reason != "interruzione del collegamento audio" ||
		!m.Suspensions[0].Resumed.Valid() || m.Suspensions[0].Resumed.Time.Sub(m.Suspensions[0].Suspended.Time) != 10*time.Minute {
		t.Fatalf("suspensions %+v", m.Suspensions)
	}
	if len(m.PublicChanges) != 2 || m.PublicChanges[0].Public || !m.PublicChanges[1].Public {
		t.Fatalf("public changes %+v", m.PublicChanges)
	}
	var kinds []string
	for _, q := range m.Quorum {
		kinds = append(kinds, q.Kind)
	}
	if !slices.Equal(kinds, []string{"initial", "gained", "closing"}) || m.Quorum[0].Quorum || m.Quorum[0].Required != 9 ||
		m.Quorum[1].Present != 9 || !m.Quorum[2].Quorum {
		t.Fatalf("quorum changes %+v", m.Quorum)
	}
}

func attendanceIDs(as []Attendance) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func movementKinds(a Attendance) []string {
	var out []string
	for _, mv := range a.Movements {
		out = append(out, mv.Kind)
	}
	return out
}

// odtText is what a reader of content.xml sees: paragraphs outside tables, and the tables (the
// header row first) each with the caption paragraph before it.
type odtText struct {
	paras  []string
	tables []odtTable
}

type odtTable struct {
	caption string
	rows    [][]string
}

// readODT checks the zip layout of an ODT, parses every XML part (well-formed or it fails) and
// returns the text of content.xml.
func readODT(t testing.TB, b []byte) odtText {
	t.Helper()
	// The first local header: "mimetype", stored, no extra field, the media type right after.
	const mime = "application/vnd.oasis.opendocument.text"
	if len(b) < 38+len(mime) || string(b[:4]) != "PK\x03\x04" || b[8] != 0 || b[9] != 0 ||
		string(b[30:38]) != "mimetype" || b[28] != 0 || b[29] != 0 || string(b[38:38+len(mime)]) != mime {
		t.Fatalf("the file does not start with a stored mimetype member: %q", b[:min(len(b), 80)])
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	must(t, err)
	if zr.File[0].Name != "mimetype" || zr.File[0].Method != zip.Store {
		t.Fatalf("first member %s, method %d", zr.File[0].Name, zr.File[0].Method)
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		must(t, err)
		body, err := io.ReadAll(r)
		must(t, err)
		parts[f.Name] = body
	}
	for _, name := range []string{"META-INF/manifest.xml", "content.xml", "styles.xml", "meta.xml"} {
		if parts[name] == nil {
			t.Fatalf("no %s in the ODT", name)
		}
		d := xml.NewDecoder(bytes.NewReader(parts[name]))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s is not well-formed XML: %v", name, err)
			}
		}
	}
	if !bytes.Contains(parts["META-INF/manifest.xml"], []byte(`manifest:full-path="content.xml"`)) {
		t.Fatalf("manifest: %s", parts["META-INF/manifest.xml"])
	}
	return contentText(t, parts["content.xml"])
}

func contentText(t testing.TB, content []byte) odtText {
	t.Helper()
	var out odtText
	var cur strings.Builder // the paragraph or cell being read
	var table *odtTable
	var row []string
	inCell, lastPara := false, ""
	d := xml.NewDecoder(bytes.NewReader(content))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		must(t, err)
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "table":
				table = &odtTable{caption: lastPara}
			case "table-row":
				row = nil
			case "table-cell":
				inCell = true
				cur.Reset()
			case "p", "h":
				if inCell && cur.Len() > 0 {
					cur.WriteString("\n")
				} else if !inCell {
					cur.Reset()
				}
			case "line-break":
				cur.WriteString("\n")
			}
		case xml.CharData:
			cur.Write(el)
		case xml.EndElement:
			switch el.Name.Local {
			case "table":
				out.tables = append(out.tables, *table)
				table = nil
			case "table-row":
				table.rows = append(table.rows, row)
			case "table-cell":
				row = append(row, cur.String())
				inCell = false
			case "p", "h":
				if !inCell {
					lastPara = cur.String()
					out.paras = append(out.paras, lastPara)
				}
			}
		}
	}
	return out
}

func (o odtText) table(t testing.TB, caption string) odtTable {
	t.Helper()
	for _, tb := range o.tables {
		if tb.caption == caption {
			return tb
		}
	}
	t.Fatalf("no table %q", caption)
	return odtTable{}
}

func (o odtText) hasPara(s string) bool {
	return slices.ContainsFunc(o.paras, func(p string) bool { return strings.Contains(p, s) })
}

func writeODT(t testing.TB, m *Minutes, c *i18n.Catalog, lang string) []byte {
	t.Helper()
	var b bytes.Buffer
	must(t, m.WriteODT(&b, c, lang))
	return b.Bytes()
}

// TestMinutesODT reads the ODT back as a word processor would and finds in it each member's
// attendance at each roll call and each vote's totals and names, as the Session returned them.
func TestMinutesODT(t *testing.T) {
	run := playSession(t, "Consiglio comunale di Esempio", defaultTexts)
	m := readRun(t, run)
	m.Names = map[string]string{secretary: "Anna Bianchi"} // the Secretary is no member: the caller names her
	c := catalog(t)
	b := writeODT(t, m, c, "it")
	if again := writeODT(t, m, c, "it"); !bytes.Equal(b, again) {
		t.Fatal("the same minutes gave two different files")
	}
	doc := readODT(t, b)

	// Times are Italian time: the session opened at 18:00 UTC, 19:00 in Rome on 1 March.
	if !doc.hasPara("Aperta il 01/03/2025 alle 19:00:00.") || !doc.hasPara("sigillato e integro") ||
		!doc.hasPara(m.Fingerprint) {
		t.Fatalf("session paragraphs: %q", doc.paras[:8])
	}
	att := doc.table(t, c.T("it", "council.minutes.attendance_caption"))
	wantHeader := []string{"Componente", "Seggio", "Numero legale", "Appello 1", "Appello 2"}
	if len(att.rows) != 1+len(run.members) || !slices.Equal(att.rows[0][:5], wantHeader) {
		t.Fatalf("attendance table: %q", att.rows[0])
	}
	for i, mem := range run.members {
		row := att.rows[i+1]
		if row[0] != mem.Name || row[1] != strconv.Itoa(mem.Seat) {
			t.Fatalf("attendance row %d: %q, want %s", i+1, row, mem.Name)
		}
		for j, rc := range run.rollCalls {
			want := "assente"
			if slices.Contains(ids(rc.Present), mem.ID) {
				want = "presente"
			}
			if row[3+j] != want {
				t.Fatalf("%s at roll call %d: %q, want %q", mem.Name, j+1, row[3+j], want)
			}
		}
	}
	if row := att.rows[11]; !strings.Contains(row[len(row)-1], "segnato presente da Anna Bianchi — presente in aula") ||
		!strings.Contains(row[len(row)-1], "annullata") {
		t.Fatalf("m11's override: %q", row)
	}
	if row := att.rows[10]; !strings.Contains(row[6], "ingresso") || !strings.Contains(row[6], "uscita") ||
		!strings.Contains(row[6], "riconnessione") || !strings.Contains(row[6], "registrazione 0:") {
		t.Fatalf("m10's movements: %q", row[6])
	}
	for _, rc := range run.rollCalls {
		var names []string
		for _, p := range rc.Present {
			names = append(names, p.Name)
		}
		if !doc.hasPara("Presenti (" + strconv.Itoa(len(rc.Present)) + "): " + strings.Join(names, ", ")) {
			t.Fatalf("no list of the %d present", len(rc.Present))
		}
	}

	for i, out := range run.votes {
		n := strconv.Itoa(out.N)
		if !doc.hasPara(run.voteTexts[i]) {
			t.Fatalf("vote %s: its text is missing", n)
		}
		tb := doc.table(t, "Risultato della votazione n. "+n)
		if len(tb.rows) != 5 {
			t.Fatalf("vote %s table %q", n, tb.rows)
		}
		for j, want := range []int{out.Totals.Favorevole, out.Totals.Contrario, out.Totals.Astenuto} {
			if tb.rows[j+1][1] != strconv.Itoa(want) {
				t.Fatalf("vote %s row %q, want %d", n, tb.rows[j+1], want)
			}
			choice := []Choice{Favorevole, Contrario, Astenuto}[j]
			if out.Secret {
				if len(tb.rows[j+1]) != 2 {
					t.Fatalf("secret vote %s names voters per choice: %q", n, tb.rows[j+1])
				}
				continue
			}
			var names []string
			for _, mem := range out.ByName[choice] {
				names = append(names, mem.Name)
			}
			if tb.rows[j+1][2] != orNone(strings.Join(names, ", ")) {
				t.Fatalf("vote %s, %s: %q, want %q", n, choice, tb.rows[j+1][2], names)
			}
		}
		var voters []string
		for _, mem := range out.Voters {
			voters = append(voters, mem.Name)
		}
		if !doc.hasPara("Hanno votato (" + strconv.Itoa(len(out.Voters)) + "): " + strings.Join(voters, ", ")) {
			t.Fatalf("vote %s: no list of voters", n)
		}
	}
	if !doc.hasPara("Votazione n. 2 — 2. Nomina del revisore dei conti") { // the item, named from the agenda
		t.Fatal("the vote's agenda item is not named")
	}
	if !doc.hasPara("Esito: APPROVATA") || !doc.hasPara("Esito: NON APPROVATA") {
		t.Fatal("results missing")
	}
	turns := doc.table(t, c.T("it", "council.minutes.turns_caption"))
	if len(turns.rows) != 3 || turns.rows[1][0] != "Consigliere 3" || turns.rows[1][2] != "Consigliere 1" ||
		turns.rows[1][3] != "0:03:00" || turns.rows[1][5] != "0:02:00" || turns.rows[1][6] != "0:01:10" ||
		turns.rows[2][0] != "Niccolò D'Angelo" || turns.rows[2][5] != "0:01:30" {
		t.Fatalf("turns table %q", turns.rows)
	}
	files := doc.table(t, c.T("it", "council.minutes.files_caption"))
	if len(files.rows) != 2 || files.rows[1][1] != strings.Repeat("ab", 32) {
		t.Fatalf("files table %q", files.rows)
	}
	events := doc.table(t, c.T("it", "council.minutes.events_caption"))
	if len(events.rows) != 1+len(m.Events) {
		t.Fatalf("chronology has %d rows for %d events", len(events.rows)-1, len(m.Events))
	}
	for _, s := range append(slices.Clone(doc.paras), flatten(doc.tables)...) {
		if strings.Contains(s, "[council.") || strings.Contains(s, "%!") {
			t.Fatalf("a label is missing or badly formatted: %q", s)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "nessuno"
	}
	return s
}

func flatten(tables []odtTable) []string {
	var out []string
	for _, tb := range tables {
		for _, r := range tb.rows {
			out = append(out, r...)
		}
	}
	return out
}

// TestMinutesEnglish checks the other language lays out the same document with its own labels.
func TestMinutesEnglish(t *testing.T) {
	m := readRun(t, playSession(t, "Town council", defaultTexts))
	c := catalog(t)
	doc := readODT(t, writeODT(t, m, c, "en"))
	att := doc.table(t, "Members' attendance")
	if att.rows[0][0] != "Member" || att.rows[1][3] != "present" || att.rows[17][3] != "absent" {
		t.Fatalf("attendance in English: %q / %q", att.rows[0], att.rows[1])
	}
	if !doc.hasPara("Opened on 1 Mar 2025 at 19:00:00.") || !doc.hasPara("Result: APPROVED") {
		t.Fatalf("paragraphs: %q", doc.paras)
	}
	it, en := m.Document(c, "it"), m.Document(c, "en")
	if len(it.Blocks) != len(en.Blocks) {
		t.Fatalf("%d blocks in Italian, %d in English", len(it.Blocks), len(en.Blocks))
	}
}

// TestMinutesHTMLEscapes puts markup in the title, a member's name and a vote's text: the page
// shows it as text, never as markup.
func TestMinutesHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>`
	run := playSession(t, "Seduta "+evil, [2]string{"Mozione " + evil, "Nomina <img src=x onerror=alert(1)>"})
	m := readRun(t, run)
	c := catalog(t)
	var b bytes.Buffer
	must(t, m.WriteHTML(&b, c, "it"))
	page := b.String()
	for _, bad := range []string{"<script", "<img"} {
		if strings.Contains(page, bad) {
			t.Fatalf("the page contains %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;") || !strings.Contains(page, "Mozione &lt;script&gt;") ||
		!strings.Contains(page, "&lt;img src=x") {
		t.Fatal("the markup is not shown as text")
	}
	for _, want := range []string{`<html lang="it">`, "<title>Verbale della seduta del consiglio — Seduta &lt;script&gt;",
		`<th scope="col">Componente</th>`, `<th scope="row">Consigliere 1</th>`, "<caption>Presenze dei componenti</caption>",
		"<h2>Votazioni</h2>", "Niccolò D&#39;Angelo"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the page lacks %q", want)
		}
	}
	// The body alone, for the web app's layout: the same article, no page around it.
	body, err := m.Document(c, "it").HTMLBody()
	must(t, err)
	if !strings.HasPrefix(string(body), `<article class="minutes" lang="it">`) || strings.Contains(string(body), "<html") ||
		!strings.Contains(page, string(body)) {
		t.Fatalf("body: %.200s", body)
	}
	if regexp.MustCompile(`<style|<[^>]*\s(style|on[a-z]+)=`).MatchString(page) {
		t.Fatal("the page has inline style or handlers, which the CSP forbids")
	}
	// The ODT carries the same text, escaped as XML.
	doc := readODT(t, writeODT(t, m, c, "it"))
	if !doc.hasPara("Mozione " + evil) {
		t.Fatal("the ODT lost the vote text")
	}
}

// TestMinutesDamagedRecords: the minutes of an altered or unsealed record say so; something that
// is not a record is refused.
func TestMinutesDamagedRecords(t *testing.T) {
	run := playSession(t, "Consiglio comunale", defaultTexts)
	c := catalog(t)
	lines := bytes.SplitAfter(run.record, []byte("\n"))

	altered := bytes.Clone(run.record)
	i := bytes.Index(altered, []byte("presente in aula"))
	altered[i] = 'P'
	line := int64(bytes.Count(altered[:i], []byte("\n")) + 1)
	m, err := ReadMinutes(bytes.NewReader(altered))
	must(t, err)
	if m.Valid || !m.Sealed || m.ProblemEntry != line || m.Problem != ProblemHash {
		t.Fatalf("altered record: valid %v sealed %v entry %d (want %d) %q", m.Valid, m.Sealed, m.ProblemEntry, line, m.Problem)
	}
	doc := readODT(t, writeODT(t, m, c, "it"))
	if !doc.hasPara("ATTENZIONE: il registro NON è integro: la voce " + strconv.FormatInt(line, 10) + " è stata alterata") {
		t.Fatalf("no warning in %q", doc.paras[:8])
	}

	unsealed := bytes.Join(lines[:len(lines)-2], nil)
	m, err = ReadMinutes(bytes.NewReader(unsealed))
	must(t, err)
	if m.Valid || m.Sealed || m.Problem != ProblemUnsealed || len(m.Votes) != 2 {
		t.Fatalf("unsealed record: %v %v %q", m.Valid, m.Sealed, m.Problem)
	}
	if doc := readODT(t, writeODT(t, m, c, "it")); !doc.hasPara("il registro non è sigillato") {
		t.Fatal("no warning for an unsealed record")
	}

	// A line that is not JSON in the middle: skipped, counted, said.
	broken := bytes.Join(append(append(slices.Clone(lines[:5]), []byte("garbage\n")), lines[5:]...), nil)
	if m, err = ReadMinutes(bytes.NewReader(broken)); err != nil || m.Skipped != 1 || m.Valid {
		t.Fatalf("broken line: %+v %v", m, err)
	}

	for name, data := range map[string][]byte{"empty": nil, "text": []byte("ciao\n"),
		"no opening": bytes.Join(lines[1:], nil)} {
		if _, err := ReadMinutes(bytes.NewReader(data)); rocca.ErrorCodeOf(err) != rocca.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

// TestMinutesCatalogKeys: every key the minutes use is in both languages (the repo's catalog test
// cannot see keys inside Go strings that are not in the c.T(lang, "key") form).
func TestMinutesCatalogKeys(t *testing.T) {
	c := catalog(t)
	files, err := filepath.Glob("minutes*.go")
	must(t, err)
	re := regexp.MustCompile(`"((?:council\.minutes|cli\.council\.problem)\.[a-z0-9_.]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		must(t, err)
		for _, k := range re.FindAllSubmatch(b, -1) {
			n++
			for _, lang := range i18n.Languages() {
				if !c.Has(lang, string(k[1])) {
					t.Errorf("%s: key %s missing in %s", f, k[1], lang)
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d keys found: the pattern is wrong", n)
	}
}

// TestMinutesODTOpensInLibreOffice is acceptance 5: LibreOffice opens the ODT and converts it to
// PDF, and its own text export lists the same members and votes.
func TestMinutesODTOpensInLibreOffice(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("ROCCA_E2E") == "1" {
			t.Fatal("soffice not found: install Debian's libreoffice-writer-nogui")
		}
		t.Skip("soffice not found: install Debian's libreoffice-writer-nogui to run this test")
	}
	run := playSession(t, "Consiglio comunale di Esempio", defaultTexts)
	m := readRun(t, run)
	dir := t.TempDir()
	odt := filepath.Join(dir, "verbale.odt")
	must(t, os.WriteFile(odt, writeODT(t, m, catalog(t), "it"), 0o600))
	profile := "file://" + filepath.Join(dir, "profile") // its own profile: no lock shared with anybody

	convert := func(to string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the first start is slow
		defer cancel()
		cmd := exec.CommandContext(ctx, soffice, "--headless", "--norestore", "-env:UserInstallation="+profile,
			"--convert-to", to, "--outdir", dir, odt)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("soffice --convert-to %s: %v\n%s", to, err, out)
		}
	}
	convert("pdf")
	pdf, err := os.ReadFile(filepath.Join(dir, "verbale.pdf"))
	if err != nil || len(pdf) == 0 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("no PDF from LibreOffice: %d bytes, %v", len(pdf), err)
	}
	convert("txt:Text (encoded):UTF8")
	txt, err := os.ReadFile(filepath.Join(dir, "verbale.txt"))
	must(t, err)
	text := string(txt)
	for _, mem := range run.members {
		if !strings.Contains(text, mem.Name) {
			t.Fatalf("LibreOffice's text has no %s", mem.Name)
		}
	}
	for i, out := range run.votes {
		if !strings.Contains(text, run.voteTexts[i]) || !strings.Contains(text, "Risultato della votazione n. "+strconv.Itoa(out.N)) {
			t.Fatalf("LibreOffice's text lacks vote %d", out.N)
		}
	}
	if !strings.Contains(text, "Esito: APPROVATA") || !strings.Contains(text, "presente in aula") {
		t.Fatal("LibreOffice's text lacks the result or the Secretary's note")
	}
}

// playSmall is a short session with every kind of entry, small enough for the fuzzer to mutate
// and minimise quickly. It returns the sealed record and the key's fingerprint.
func playSmall(t testing.TB) ([]byte, string) {
	t.Helper()
	ms := []Member{{ID: "a", Name: "Anna", Seat: 1, CountsForQuorum: true}, {ID: "b", Name: "Bruno", Seat: 2, CountsForQuorum: true},
		{ID: "c", Name: "Carla", Seat: 3}}
	path := filepath.Join(t.TempDir(), "small.record")
	rec, err := CreateRecord(path)
	must(t, err)
	t.Cleanup(func() { _ = rec.Close() })
	clk := &clock{t: time.Date(2025, 6, 30, 21, 59, 0, 0, time.UTC)} // crosses midnight in Rome
	s, err := New(Config{ID: "x", Title: "T", Agenda: []AgendaItem{{1, "P"}}, Members: ms, Quorum: QuorumRule{Kind: QuorumCustom, N: 1},
		Now: clk.Now, Record: rec})
	must(t, err)
	f := &fixture{s: s, clk: clk}
	must(t, s.StartRollCall("a"))
	f.arrive(t, "a")
	must(t, s.Override("b", true, "in aula", "sec"))
	_, err = s.CloseRollCall("a")
	must(t, err)
	must(t, s.RecordingStarted("a"))
	clk.Add(time.Minute)
	must(t, s.RequestFloor("b"))
	must(t, s.RequestFloor("a"))
	must(t, s.WithdrawFloor("a"))
	_, err = s.GrantFloor("", "a", time.Minute)
	must(t, err)
	clk.Add(time.Minute)
	must(t, s.RevokeFloor("a"))
	_, err = s.OpenVote("1", "Testo", false)
	must(t, err)
	must(t, s.Cast("a", Favorevole))
	must(t, s.CastFor("b", Contrario, "sec")) // in the chamber: the Secretary enters it
	_, err = s.CloseVote()
	must(t, err)
	must(t, s.Suspend("a", "rete"))
	must(t, s.Resume("a"))
	must(t, s.SetPublic(true, "a"))
	_, err = s.OpenVote("1", "Segreto", true)
	must(t, err)
	must(t, s.Cast("b", Contrario))
	_, err = s.CloseVote()
	must(t, err)
	must(t, s.RecordingStopped("a"))
	must(t, s.RecordingFile("a.webm", strings.Repeat("0", 64), 1))
	must(t, s.ClearOverride("b", "sec"))
	must(t, s.Disconnect("a"))
	must(t, s.Connect("a"))
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))
	must(t, s.Close("a", key))
	b, err := os.ReadFile(path)
	must(t, err)
	return b, Result{PublicKey: key.Public().(ed25519.PublicKey)}.Fingerprint()
}

// TestMinutesEveryEntryType: the short session has every kind of entry the package writes, and
// the minutes know each one; times after midnight (Italian summer time) carry their date.
func TestMinutesEveryEntryType(t *testing.T) {
	record, fingerprint := playSmall(t)
	m, err := ReadMinutes(bytes.NewReader(record))
	must(t, err)
	if !m.Valid || m.Fingerprint != fingerprint {
		t.Fatalf("valid %v, key %s", m.Valid, m.Fingerprint)
	}
	types := map[string]bool{}
	for _, e := range m.Events {
		types[e.Type] = true
		if e.Type == "recording_file" && e.File == "" {
			t.Errorf("recording_file event %d names no file", e.Seq)
		}
	}
	for _, want := range []string{"session_opened", "quorum", "quorum_gained", "quorum_lost", "roll_call_started",
		"arrival", "confirmed", "presence", "override", "roll_call", "recording_started", "floor_requested",
		"floor_withdrawn", "floor_granted", "floor_revoked", "vote_opened", "vote_cast", "vote_closed", "suspended",
		"resumed", "public_changed", "vote_voters", "recording_stopped", "recording_file", "override_cleared",
		"departure", "reconnection", "session_closed"} {
		if !types[want] {
			t.Errorf("the short session has no %s entry", want)
		}
	}
	c := catalog(t)
	doc := readODT(t, writeODT(t, m, c, "it"))
	events := doc.table(t, c.T("it", "council.minutes.events_caption"))
	for _, row := range events.rows[1:] {
		if strings.HasPrefix(row[3], "Evento «") {
			t.Errorf("entry %s has no description: %q", row[0], row[3])
		}
	}
	if !slices.ContainsFunc(events.rows, func(r []string) bool { return strings.Contains(r[3], "in aula, registrato da sec") }) {
		t.Error("the vote the Secretary entered does not say so")
	}
	// Opened 21:59 UTC on 30 June: 23:59 in Rome; a minute later it is 1 July there.
	if !doc.hasPara("Aperta il 30/06/2025 alle 23:59:00.") || events.rows[1][1] != "23:59:00" ||
		!slices.ContainsFunc(events.rows, func(r []string) bool { return r[1] == "01/07/2025 00:00:00" }) {
		t.Fatalf("times: %q", events.rows[:4])
	}
}

// FuzzReadMinutes feeds ReadMinutes what an uploaded or copied record file could hold: whatever
// it accepts must render as a well-formed ODT and as HTML.
func FuzzReadMinutes(f *testing.F) {
	record, fingerprint := playSmall(f)
	lines := bytes.SplitAfter(record, []byte("\n"))
	f.Add(record)
	f.Add(bytes.Join(lines[:12], nil))
	f.Add([]byte(`{"seq":1,"time":"2025-03-01T18:00:00.000Z","type":"session_opened","data":{"members":[{"id":"a","name":"\u0000x","seat":1}]},"prev":"","hash":""}` + "\n" +
		`{"seq":2,"time":"bad","type":"vote_closed","data":{"vote":3,"secret":true,"by_name":{"favorevole":[{"id":"a"}]}},"prev":"","hash":""}` + "\n"))
	c := catalog(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMinutes(bytes.NewReader(data))
		if err != nil {
			var re *rocca.Error
			if !errors.As(err, &re) {
				t.Fatalf("not a user error: %v", err)
			}
			return
		}
		// Only a record signed with the test's key can verify: the fuzzer cannot forge a seal.
		if m.Valid && (!m.Sealed || m.Fingerprint != fingerprint) {
			t.Fatalf("valid, sealed %v, key %s", m.Sealed, m.Fingerprint)
		}
		for _, v := range m.Votes {
			if v.Secret && v.ByName != nil {
				t.Fatalf("secret vote %d has names per choice", v.N)
			}
		}
		var odt bytes.Buffer
		must(t, m.WriteODT(&odt, c, "it"))
		readODT(t, odt.Bytes())
		must(t, m.WriteHTML(io.Discard, c, "en"))
	})
}
