package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/conferencing"
)

// enableMeetings turns the meetings part on in the instance's config, on free ports.
func (in *instance) enableMeetings() {
	in.t.Helper()
	body, err := os.ReadFile(in.config)
	if err != nil {
		in.t.Fatal(err)
	}
	on := fmt.Sprintf("[meetings]\nenabled = true\nudp_port = %d\nturn_port = %d\n", freePort(in.t), freePort(in.t))
	cfg := strings.Replace(string(body), "[meetings]\nenabled = false\n", on, 1)
	if cfg == string(body) {
		in.t.Fatal("config has no [meetings] section to change")
	}
	if err := os.WriteFile(in.config, []byte(cfg), 0o640); err != nil {
		in.t.Fatal(err)
	}
}

// TestMeetingCreateAndJoinPage: with meetings on, `rocca meeting create` prints a join link that
// serves the join page to a guest, and `rocca meeting list` shows the meeting.
func TestMeetingCreateAndJoinPage(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.enableMeetings()
	in.start()
	out, errOut, code := in.rocca("", "meeting", "create", "--title", "Giunta comunale", "--start", "2030-01-15 18:00")
	if code != 0 {
		t.Fatalf("meeting create: %d\n%s%s", code, out, errOut)
	}
	var link string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, in.baseURL+"/meetings/") {
			link = strings.TrimSpace(l)
		}
	}
	if link == "" {
		t.Fatalf("no join link in:\n%s", out)
	}
	resp, body := get(t, browser(t), link)
	if resp.StatusCode != 200 || !strings.Contains(body, "Giunta comunale") || !strings.Contains(body, `type="module"`) {
		t.Fatalf("join page: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("join page CSP = %q", csp)
	}
	out, _, code = in.rocca("", "meeting", "list", "--json")
	if code != 0 || !strings.Contains(out, "Giunta comunale") {
		t.Fatalf("meeting list --json: %d\n%s", code, out)
	}
	_, errOut, code = in.rocca("", "meeting", "create", "--title", "X", "--start", "domani")
	if code != 1 || !strings.Contains(errOut, "domani") {
		t.Fatalf("bad start: exit %d, %q; want 1 naming the value", code, errOut)
	}
}

// TestMeetingCouncilSetup: `rocca meeting council` sets up the council session of a meeting
// created with --council through the admin socket, and reads it back (for people and as JSON).
// An unknown e-mail or a seat given twice is refused with a message naming it (exit 1) and
// leaves the setup as it was; a malformed --seat or a missing --public/--closed is a usage error
// (exit 2).
func TestMeetingCouncilSetup(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.enableMeetings()
	in.start()
	for _, u := range [][3]string{
		{"presidente@comune.example.it", "Maria Neri", "councillor"},
		{"segretario@comune.example.it", "Luca Gallo", "staff"},
		{"sindaco@comune.example.it", "Paola Sindaco", "councillor"},
		{"anna@comune.example.it", "Anna Rossi", "councillor"},
		{"bruno@comune.example.it", "Bruno Bianchi", "councillor"},
	} {
		if _, errOut, code := in.rocca("", "user", "add", u[0], "--name", u[1], "--role", u[2]); code != 0 {
			t.Fatalf("user add %s: %d %s", u[0], code, errOut)
		}
	}
	out, errOut, code := in.rocca("", "meeting", "create", "--title", "Consiglio comunale", "--start", "2030-01-15 18:00", "--council", "--json")
	if code != 0 {
		t.Fatalf("meeting create: %d\n%s%s", code, out, errOut)
	}
	var m conferencing.Meeting
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.PublicID == "" || !m.Council {
		t.Fatalf("meeting create --json: %v\n%s", err, out)
	}

	setup := []string{"meeting", "council", m.Link, // the link works as well as the code
		"--chair", "presidente@comune.example.it", "--secretary", "segretario@comune.example.it",
		"--seat", "1=sindaco@comune.example.it,nq", "--seat", "2=anna@comune.example.it", "--seat", "3=bruno@comune.example.it",
		"--item", "Approvazione del verbale", "--item", "Bilancio di previsione 2031",
		"--quorum", "majority", "--public", "--record-closed"}
	out, errOut, code = in.rocca("", setup...)
	if code != 0 {
		t.Fatalf("meeting council: %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Seduta del consiglio impostata.", "«Consiglio comunale»: da aprire",
		"Presidente: Maria Neri <presidente@comune.example.it>", "Segretario: Luca Gallo <segretario@comune.example.it>",
		"Seduta pubblica", "registrazione è consentita anche a seduta riservata",
		"Numero legale: maggioranza dei componenti assegnati, 2 su 2.", "1. Approvazione del verbale", "2. Bilancio di previsione 2031"} {
		if !strings.Contains(out, want) {
			t.Errorf("meeting council output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^1\s+Paola Sindaco\s+sindaco@comune\.example\.it\s+non conta$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^3\s+Bruno Bianchi\s+bruno@comune\.example\.it\s+conta$`).MatchString(out) {
		t.Errorf("seats in the output:\n%s", out)
	}

	readBack := func() conferencing.CouncilInfo {
		t.Helper()
		out, errOut, code := in.rocca("", "meeting", "council", m.PublicID, "--json")
		var c conferencing.CouncilInfo
		if code != 0 || json.Unmarshal([]byte(out), &c) != nil {
			t.Fatalf("meeting council --json: %d\n%s%s", code, out, errOut)
		}
		return c
	}
	c := readBack()
	seats := []string{}
	for _, st := range c.Seats {
		seats = append(seats, fmt.Sprintf("%d %s %s %v", st.Seat, st.Name, c.SeatEmails[st.Seat], st.CountsForQuorum))
	}
	want := []string{"1 Paola Sindaco sindaco@comune.example.it false", "2 Anna Rossi anna@comune.example.it true",
		"3 Bruno Bianchi bruno@comune.example.it true"}
	if c.Meeting != m.PublicID || c.Title != "Consiglio comunale" || c.State != "scheduled" ||
		c.ChairEmail != "presidente@comune.example.it" || c.SecretaryName != "Luca Gallo" || !c.Public || !c.RecordClosed ||
		c.Quorum.Kind != "majority" || c.Assigned != 2 || c.Required != 2 ||
		!slices.Equal(c.Agenda, []string{"Approvazione del verbale", "Bilancio di previsione 2031"}) || !slices.Equal(seats, want) {
		t.Errorf("read back: %+v\nseats %v", c, seats)
	}
	out, _, code = in.rocca("", "meeting", "council", m.PublicID)
	if code != 0 || !strings.Contains(out, "Presidente: Maria Neri") || strings.Contains(out, "impostata") {
		t.Errorf("meeting council (show): %d\n%s", code, out)
	}

	// User errors: exit 1, one line naming what to fix; the setup stays as it was.
	base := []string{"meeting", "council", m.PublicID, "--chair", "presidente@comune.example.it",
		"--secretary", "segretario@comune.example.it", "--closed", "--quorum", "one_third"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--seat", "1=anna@comune.example.it", "--seat", "2=nessuno@comune.example.it"}, "Nessun account con l'indirizzo nessuno@comune.example.it"},
		{[]string{"--seat", "1=anna@comune.example.it", "--seat", "1=bruno@comune.example.it"}, "Il seggio 1 è assegnato a due persone"},
		{[]string{"--seat", "1=anna@comune.example.it", "--seat", "2=anna@comune.example.it"}, "Anna Rossi occupa due seggi"},
	} {
		_, errOut, code := in.rocca("", append(slices.Clone(base), c.args...)...)
		if code != 1 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, %q; want 1 and %q", c.args, code, errOut, c.want)
		}
	}
	_, errOut, code = in.rocca("", "meeting", "council", "nessuna-riunione", "--json")
	if code != 1 || errOut == "" {
		t.Errorf("unknown meeting: exit %d, %q", code, errOut)
	}
	if after := readBack(); after.Public != true || len(after.Seats) != 3 || after.Quorum.Kind != "majority" {
		t.Errorf("a refused setup changed the saved one: %+v", after)
	}

	out, _, code = in.rocca("", "meeting", "council", "--help")
	if code != 0 || !strings.Contains(out, "--seat 3=anna@comune.it") || !strings.Contains(out, "-record-closed") {
		t.Errorf("meeting council --help: %d\n%s", code, out)
	}
	if out, _, code = in.rocca("", "meeting", "--help"); code != 0 || !strings.Contains(out, "rocca meeting council") {
		t.Errorf("meeting --help: %d\n%s", code, out)
	}

	// Usage errors: exit 2 with the usage.
	for _, args := range [][]string{
		append(slices.Clone(base), "--seat", "anna@comune.example.it"),
		append(slices.Clone(base), "--seat", "1=anna@comune.example.it,quorum"),
		{"meeting", "council", m.PublicID, "--chair", "presidente@comune.example.it", "--secretary", "segretario@comune.example.it",
			"--seat", "1=anna@comune.example.it"}, // neither --public nor --closed
		append(slices.Clone(base), "--seat", "1=anna@comune.example.it", "--quorum", "tanti"),
		{"meeting", "council", "--chair", "presidente@comune.example.it"}, // no meeting
	} {
		_, errOut, code := in.rocca("", args...)
		if code != 2 || !strings.Contains(errOut, "rocca meeting council RIUNIONE") {
			t.Errorf("%v: exit %d, %q; want 2 with the usage", args, code, errOut)
		}
	}
}
