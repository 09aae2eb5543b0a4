package conferencing

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
)

func keyOf(err error) string {
	var e *rocca.Error
	if errors.As(err, &e) {
		return e.Key
	}
	return ""
}

// The setup is checked (each mistake with its own message), refused once the session is open,
// and decides the roles at join: President, Secretary, members; anybody else waits in the lobby.
func TestCouncilSetup(t *testing.T) {
	e, m, _ := newCouncilEnv(t, 3, false)
	ctx := context.Background()
	good := func() CouncilSetup {
		s := CouncilSetup{Chair: councilChair, Secretary: councilSecretary, Agenda: []string{" Bilancio ", "", "Varie"},
			Quorum: council.QuorumRule{Kind: council.QuorumOneThird}}
		for i := 1; i <= 3; i++ {
			s.Seats = append(s.Seats, Seat{UserID: councilMember(i), Seat: 4 - i, CountsForQuorum: i != 1})
		}
		return s
	}
	for _, c := range []struct {
		key    string
		change func(*CouncilSetup)
	}{
		{"conf.error.council_user_unknown", func(s *CouncilSetup) { s.Seats[1].UserID = 9999 }},
		{"conf.error.council_seat_duplicate", func(s *CouncilSetup) { s.Seats[1].Seat = s.Seats[0].Seat }},
		{"conf.error.council_user_duplicate", func(s *CouncilSetup) { s.Seats[1].UserID = s.Seats[0].UserID }},
		{"conf.error.council_seat_invalid", func(s *CouncilSetup) { s.Seats[0].Seat = 0 }},
		{"conf.error.council_chair_secretary", func(s *CouncilSetup) { s.Secretary = s.Chair }},
		{"conf.error.council_chair_required", func(s *CouncilSetup) { s.Chair = 0 }},
		{"conf.error.council_user_unknown", func(s *CouncilSetup) { s.Secretary = 9998 }},
		{"council.error.no_members", func(s *CouncilSetup) { s.Seats = nil }},
		{"council.error.quorum_kind", func(s *CouncilSetup) { s.Quorum.Kind = "most" }},
		{"council.error.quorum_custom", func(s *CouncilSetup) { s.Quorum = council.QuorumRule{Kind: council.QuorumCustom, N: 3} }},
		{"conf.error.council_none_counted", func(s *CouncilSetup) {
			for i := range s.Seats {
				s.Seats[i].CountsForQuorum = false
			}
		}},
	} {
		s := good()
		c.change(&s)
		if _, err := e.svc.SetCouncil(ctx, m.PublicID, s); keyOf(err) != c.key {
			t.Errorf("want %s, got %v", c.key, err)
		}
	}
	plain := e.meeting(NewMeeting{})
	if _, err := e.svc.SetCouncil(ctx, plain.PublicID, good()); keyOf(err) != "conf.error.council_not_council" {
		t.Errorf("plain meeting: %v", err)
	}
	byEmail := CouncilRequest{Meeting: m.PublicID, Chair: "presidente@comune.test", Secretary: "nessuno@comune.test",
		Seats: []CouncilSeatRequest{{Email: "consigliere01@comune.test", Seat: 1}}, Quorum: council.QuorumRule{Kind: council.QuorumMajority}}
	if _, err := e.svc.SetCouncilByEmail(ctx, byEmail); keyOf(err) != "conf.error.council_email_unknown" {
		t.Errorf("unknown address: %v", err)
	}
	byEmail.Secretary = "segretario@comune.test"
	if c, err := e.svc.SetCouncilByEmail(ctx, byEmail); err != nil || c.Seats[0].UserID != councilMember(1) || !c.Seats[0].CountsForQuorum {
		t.Errorf("by e-mail: %+v %v", c, err)
	}
	saved, err := e.svc.SetCouncil(ctx, m.PublicID, good())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(saved.Agenda, "|") != "Bilancio|Varie" || saved.Seats[0].Seat != 1 || saved.Seats[0].Name != "Consigliere 03" {
		t.Errorf("saved: %+v", saved)
	}

	// Roles at join: Anna created the meeting but has no part in the session.
	for _, c := range []struct {
		user  int64
		role  Role
		lobby bool
	}{{councilChair, RoleChair, false}, {councilSecretary, RoleSecretary, false}, {councilMember(2), RoleMember, false},
		{1, RoleGuest, true}} {
		jr, status, body := e.joinHTTP(m, c.user, JoinRequest{})
		if jr == nil || jr.Role != c.role || jr.Lobby != c.lobby {
			t.Errorf("user %d: %d %s, want %s lobby %v", c.user, status, body, c.role, c.lobby)
		}
	}

	// Once open, the setup stays as the record has it.
	chair := e.newCouncilPeer("presidente", m, councilChair, false)
	chair.join()
	chair.council(ActOpen)
	chair.waitState("open", func(st councilStateView) bool { return st.Opened })
	if _, err := e.svc.SetCouncil(ctx, m.PublicID, good()); keyOf(err) != "conf.error.council_open" {
		t.Errorf("setup changed while open: %v", err)
	}
	if c, err := e.svc.Council(ctx, m.PublicID); err != nil || c.State != CouncilOpen || c.RecordFile == "" {
		t.Errorf("open council: %+v %v", c, err)
	}
	info, err := os.Stat(e.svc.cfg.CouncilDir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("council directory: %v %v", info, err)
	}
}

// The setup page: staff who host the meeting fill it in from the list of users; the list of
// meetings links to it; others may not.
func TestCouncilSetupPage(t *testing.T) {
	e, m, _ := newCouncilEnv(t, 2, true)
	path := "/meetings/" + m.PublicID + "/council"
	status, _, body := e.get(path, 1)
	if status != http.StatusOK || !strings.Contains(body, `name="seat_101"`) || !strings.Contains(body, "Consigliere 02") ||
		!strings.Contains(body, `<option value="150" selected>`) {
		t.Fatalf("setup page: %d\n%s", status, body)
	}
	if status, _, body := e.get("/meetings", 1); status != http.StatusOK || !strings.Contains(body, path) {
		t.Errorf("meetings list has no link to the setup: %d", status)
	}
	if status, _, _ := e.get(path, 2); status != http.StatusForbidden { // staff, not a host
		t.Errorf("another staff member: %d", status)
	}
	if status, _, _ := e.get(path, 3); status != http.StatusForbidden { // a councillor
		t.Errorf("a councillor: %d", status)
	}

	post := func(f url.Values) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("X-Test-User", "1")
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	form := url.Values{"chair": {"150"}, "secretary": {"151"}, "agenda": {"Bilancio\r\nNomine\r\n"},
		"quorum": {"custom"}, "quorum_n": {"1"}, "record_closed": {"1"},
		"seat_101": {"7"}, "counts_101": {"1"}, "seat_102": {"3"}}
	res, _ := post(form)
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "?saved=1") {
		t.Fatalf("save: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	c, err := e.svc.Council(context.Background(), m.PublicID)
	if err != nil || c.Public || !c.RecordClosed || c.Quorum.N != 1 || len(c.Seats) != 2 || c.Seats[0].Seat != 3 ||
		c.Seats[0].CountsForQuorum || !c.Seats[1].CountsForQuorum || strings.Join(c.Agenda, "|") != "Bilancio|Nomine" {
		t.Errorf("saved from the form: %+v %v", c, err)
	}
	form.Set("seat_102", "7")
	res, body = post(form)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Il seggio 7 è assegnato a due persone") ||
		!strings.Contains(body, `name="seat_102" value="7"`) {
		t.Errorf("duplicate seat: %d\n%s", res.StatusCode, body)
	}
}

// The floor: in an open session a member may unmute only while holding it; granting it to
// somebody else mutes the previous speaker; a speaking time ends by itself. Actions are refused
// to those whose role does not allow them, with the reason.
func TestCouncilFloor(t *testing.T) {
	e, m, _ := newCouncilEnv(t, 2, true)
	chair := e.newCouncilPeer("presidente", m, councilChair, false)
	one := e.newCouncilPeer("c01", m, councilMember(1), false)
	two := e.newCouncilPeer("c02", m, councilMember(2), false)
	for _, p := range []*cpeer{chair, one, two} {
		p.join()
	}
	mark := one.mark()
	one.council(ActOpen)
	one.waitError(mark, "council_chair_only")
	one.council(ActConfirm)
	one.waitError(mark, "council_not_open")

	chair.council(ActOpen)
	one.waitState("open", func(st councilStateView) bool { return st.Opened })
	mark = one.mark()
	one.send(map[string]any{"type": "mute", "audio": false})
	one.waitError(mark, "unmute_forbidden")
	mark = chair.mark()
	chair.council(ActOverride, "target", memberID(councilMember(1)), "present", true, "note", "in aula")
	chair.waitError(mark, "council_secretary_only")

	one.council(ActFloorRequest)
	chair.waitState("first request", func(st councilStateView) bool { return len(st.Queue) == 1 })
	two.council(ActFloorRequest)
	chair.waitState("queue", func(st councilStateView) bool { return len(st.Queue) == 2 })
	chair.council(ActFloorGrant) // the first in the queue
	one.waitState("floor", func(st councilStateView) bool { return st.Speaker == memberID(councilMember(1)) })
	mark = one.mark()
	one.send(map[string]any{"type": "mute", "audio": false})
	waitFor(t, "c01 unmuted", func() bool { return !e.svc.memberMuted(m.ID, one.id) })

	chair.council(ActFloorGrant, "target", memberID(councilMember(2)), "seconds", 1)
	one.waitMsg(mark, "muted", nil)
	if !e.svc.memberMuted(m.ID, one.id) {
		t.Error("previous speaker not muted")
	}
	st := two.waitState("speaking time", func(st councilStateView) bool {
		return st.Speaker == memberID(councilMember(2)) && st.FloorDeadline != ""
	})
	if st.Queue == nil || len(st.Queue) != 0 {
		t.Errorf("queue after the grants: %v", st.Queue)
	}
	two.waitState("floor taken back at the deadline", func(st councilStateView) bool { return st.Speaker == "" && st.FloorDeadline == "" })

	// The Secretary marks a member present in the chamber, with a note, and takes it back.
	secretary := e.newCouncilPeer("segretario", m, councilSecretary, false)
	secretary.join()
	secretary.council(ActOverride, "target", memberID(councilMember(2)), "present", true, "note", "presente in aula")
	st = chair.waitState("override", func(st councilStateView) bool {
		ms := memberState(st, memberID(councilMember(2)))
		return ms.Present && ms.Override == "presente in aula" && st.Present == 1
	})
	mark = secretary.mark()
	secretary.council(ActOverride, "target", "u999", "present", true, "note", "x")
	secretary.waitError(mark, "council_no_member")
	secretary.council(ActClearOverride, "target", memberID(councilMember(2)))
	chair.waitState("override cleared", func(st councilStateView) bool { return st.Present == 0 })

	chair.council(ActSuspend, "reason", "problemi di collegamento")
	chair.waitState("suspended", func(st councilStateView) bool { return st.Suspended })
	chair.council(ActResume)
	chair.waitState("resumed", func(st councilStateView) bool { return !st.Suspended })

	// Recording in a public session, then closed: the setup does not allow recording it.
	chair.council(ActRecordStart)
	chair.waitState("recording", func(st councilStateView) bool { return st.Recording })
	chair.council(ActSetPublic, "public", false)
	chair.waitState("closed to the public, recording stopped", func(st councilStateView) bool { return !st.Public && !st.Recording })
	mark = chair.mark()
	chair.council(ActRecordStart)
	chair.waitError(mark, "council_recording_closed")
	chair.send(map[string]any{"type": TypeEnd})
	chair.waitError(mark, "council_end_open")
}

// memberMuted reports whether participant id's microphone is muted at the server.
func (s *Service) memberMuted(meetingID int64, id string) bool {
	s.mu.Lock()
	r := s.rooms[meetingID]
	s.mu.Unlock()
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	mem := r.members[id]
	return mem != nil && mem.muted
}

// A restart while the session is open: the record is closed without a seal, conf_council stays
// open, and opening again seals it and starts a new record that points back to it.
func TestCouncilRestart(t *testing.T) {
	e, m, _ := newCouncilEnv(t, 2, true)
	chair := e.newCouncilPeer("presidente", m, councilChair, false)
	chair.join()
	chair.council(ActOpen)
	chair.waitState("open", func(st councilStateView) bool { return st.Opened })
	first, err := e.svc.CouncilRecordPath(context.Background(), m.PublicID)
	if err != nil {
		t.Fatal(err)
	}
	chair.close()
	e.restart()
	f, err := os.Open(first)
	if err != nil {
		t.Fatal(err)
	}
	res, err := council.Verify(f, nil)
	f.Close()
	if err != nil || res.Valid || res.Problem != council.ProblemUnsealed || res.Entries < 2 {
		t.Errorf("interrupted record: %+v %v", res, err)
	}
	if c, err := e.svc.Council(context.Background(), m.PublicID); err != nil || c.State != CouncilOpen {
		t.Errorf("after the restart: %+v %v", c, err)
	}
	chair = e.newCouncilPeer("presidente-di-nuovo", m, councilChair, false)
	chair.join()
	chair.waitState("not open yet", func(st councilStateView) bool { return st.Configured && !st.Opened })
	chair.council(ActOpen)
	chair.waitState("open again", func(st councilStateView) bool { return st.Opened })
	second, _ := e.svc.CouncilRecordPath(context.Background(), m.PublicID)
	if second == first || filepath.Dir(second) != filepath.Dir(first) {
		t.Errorf("records: %s then %s", first, second)
	}
	// Opening again sealed the interrupted record, which names the one the session continues in.
	b, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := council.Verify(bytes.NewReader(b), nil); err != nil || !res.Valid ||
		!bytes.Contains(b, []byte(`"type":"session_interrupted","data":{"file":"`+filepath.Base(second)+`","reason":"server_restart"}`)) {
		t.Errorf("interrupted record after opening again: %+v %v\n%s", res, err, b)
	}
	if b, _ := os.ReadFile(second); !bytes.Contains(b, []byte(`"continues":{"file":"`+filepath.Base(first)+`","last_hash":"`)) {
		t.Errorf("second record does not point back to the first:\n%s", b)
	}
	chair.council(ActClose)
	chair.waitState("closed", func(st councilStateView) bool { return st.Closed })
	f, _ = os.Open(second)
	defer f.Close()
	if res, err := council.Verify(f, nil); err != nil || !res.Valid {
		t.Errorf("second record: %+v %v", res, err)
	}
	mark := chair.mark()
	chair.council(ActOpen)
	chair.waitError(mark, "council_closed")
	checkMinutesPages(t, e, m)
}

// checkMinutesPages: the minutes of a closed session are served from its record to a host, as
// a page and as an ODT file, and refused to a councillor.
func checkMinutesPages(t *testing.T, e *env, m *Meeting) {
	t.Helper()
	base := "/meetings/" + m.PublicID + "/verbale"
	if status, _, body := e.get(base, 1); status != http.StatusOK || !strings.Contains(body, "Consiglio comunale") ||
		!strings.Contains(body, base+".odt") {
		t.Errorf("minutes page: %d\n%s", status, body)
	}
	status, h, body := e.get(base+".odt", 1)
	if status != http.StatusOK || h.Get("Content-Type") != "application/vnd.oasis.opendocument.text" ||
		!strings.HasPrefix(body, "PK") || !strings.Contains(body, "mimetypeapplication/vnd.oasis.opendocument.text") {
		t.Errorf("minutes ODT: %d %s", status, h.Get("Content-Type"))
	}
	if status, _, _ := e.get(base, 3); status != http.StatusForbidden {
		t.Errorf("minutes for a councillor: %d", status)
	}
}

// A person waiting in the lobby who is given a seat by a change of the setup enters at once, as a
// member, without a host admitting them.
func TestCouncilSeatAdmitsFromLobby(t *testing.T) {
	e, m, _ := newCouncilEnv(t, 3, false)
	ctx := context.Background()
	full, err := e.svc.Council(ctx, m.PublicID)
	if err != nil {
		t.Fatal(err)
	}
	fewer := full.CouncilSetup
	fewer.Seats = slices.DeleteFunc(slices.Clone(fewer.Seats), func(s Seat) bool { return s.UserID == councilMember(3) })
	if _, err := e.svc.SetCouncil(ctx, m.PublicID, fewer); err != nil {
		t.Fatal(err)
	}
	late := e.newCouncilPeer("consigliere03", m, councilMember(3), false)
	waiting := func() bool {
		e.svc.mu.Lock()
		r := e.svc.rooms[m.ID]
		e.svc.mu.Unlock()
		if r == nil {
			return false
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.lobby) == 1
	}
	seated := make(chan error, 1)
	go func() {
		for !waiting() {
			time.Sleep(20 * time.Millisecond)
		}
		_, err := e.svc.SetCouncil(ctx, m.PublicID, full.CouncilSetup)
		seated <- err
	}()
	late.join() // returns on "joined": nobody admitted them by hand
	if err := <-seated; err != nil {
		t.Fatal(err)
	}
	if j := late.waitMsg(0, "joined", nil); j.Self.Role != RoleMember {
		t.Errorf("entered as %q, want member", j.Self.Role)
	}
}
