package conferencing

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two signed-in users join through the join endpoint and the signalling WebSocket; each receives
// the other's audio and video, the track announcements name the right publisher and source, and
// the participant list shows both with their roles.
func TestJoinMediaBothWays(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	anna := e.newPeer("anna", m, 1)
	anna.join(JoinRequest{})
	joined := anna.waitMsg(0, "joined", nil)
	if joined.Self.Role != RoleHost || joined.Self.Name != "Anna Rossi" || joined.Room.Title != m.Title {
		t.Fatalf("anna joined as %+v in %+v", joined.Self, joined.Room)
	}
	bruno := e.newPeer("bruno", m, 2)
	bruno.join(JoinRequest{})
	if j := bruno.waitMsg(0, "joined", nil); j.Self.Role != RoleMember || len(j.Participants) != 2 {
		t.Fatalf("bruno joined as %+v with %d participants", j.Self, len(j.Participants))
	}
	everybodyReceives(t, 25, anna, bruno)
	for _, p := range []*peer{anna, bruno} {
		if first := p.messages()[0].Type; first != "joined" {
			t.Errorf("%s: first message %q, want joined", p.name, first)
		}
	}

	// What the server announced matches what arrived on each mid.
	for _, p := range []*peer{anna, bruno} {
		other := map[*peer]*peer{anna: bruno, bruno: anna}[p]
		kinds := map[string]string{}
		for _, msg := range p.messages() {
			if msg.Type != "track_added" {
				continue
			}
			if msg.Publisher != other.id {
				t.Errorf("%s: track announced from %q, want %q", p.name, msg.Publisher, other.id)
			}
			kinds[msg.Kind] = msg.Source
			p.mu.Lock()
			stream, ok := p.streamOf[msg.Mid]
			p.mu.Unlock()
			if ok && stream != msg.Publisher {
				t.Errorf("%s: mid %s carries stream %q but was announced as %q's", p.name, msg.Mid, stream, msg.Publisher)
			}
		}
		if kinds["audio"] != SourceMicrophone || kinds["video"] != SourceCamera {
			t.Errorf("%s: announced sources %v, want microphone and camera", p.name, kinds)
		}
	}
	if rooms, people := metricValue(t, e.svc, "rocca_meetings_rooms"), metricValue(t, e.svc, "rocca_meetings_participants"); rooms != 1 || people != 2 {
		t.Errorf("metrics: %v rooms, %v participants", rooms, people)
	}
	waitFor(t, "forwarded bitrate in the metrics", func() bool {
		return metricValue(t, e.svc, "rocca_meetings_forwarded_bitrate_bits_per_second") > 0
	})
	list := anna.waitMsg(0, "participants", func(m rx) bool {
		v, _ := viewOf(m.Participants, bruno.id)
		return len(v.Tracks) == 2
	}).Participants
	if v, _ := viewOf(list, bruno.id); v.Name != "Bruno Bianchi" || v.Tracks[bruno.name+"-video"] != SourceCamera ||
		v.Tracks[bruno.name+"-audio"] != SourceMicrophone || v.Screen {
		t.Errorf("anna sees bruno as %+v", v)
	}
}

// A participant leaves and the others are told and keep their media; the same user comes back
// into the same place; a participant who vanishes without a word is dropped.
func TestLeaveAndRejoin(t *testing.T) {
	e, m, anna, bruno, carla := threeInARoom(t, 20)
	carlaID := carla.id

	mark := anna.mark()
	carla.leave()
	anna.waitMsg(mark, "participants", func(m rx) bool { return !hasParticipant(m.Participants, carlaID) })
	removed := 0
	waitFor(t, "anna told carla's tracks are gone", func() bool {
		removed = 0
		for _, msg := range anna.messages()[mark:] {
			if msg.Type == "track_removed" && msg.Publisher == carlaID {
				removed++
			}
		}
		return removed == 2
	})
	everybodyReceives(t, 25, anna, bruno)

	carla2 := e.newPeer("carla", m, 3)
	carla2.join(JoinRequest{})
	if carla2.id != carlaID {
		t.Errorf("carla came back as %s, want her place %s", carla2.id, carlaID)
	}
	carla2.waitMsg(0, "joined", nil)
	everybodyReceives(t, 20, anna, bruno, carla2)

	// Carla's connection breaks: no leave message, the socket just closes.
	mark = bruno.mark()
	carla2.mu.Lock()
	carla2.ws.Close()
	carla2.mu.Unlock()
	bruno.waitMsg(mark, "participants", func(m rx) bool { return !hasParticipant(m.Participants, carlaID) })
	everybodyReceives(t, 25, anna, bruno)
	if n := e.svc.liveCount(m.ID); n != 2 {
		t.Errorf("%d people in the room, want 2", n)
	}
}

// A guest waits in the lobby until the host admits them; until then they may not negotiate.
// Another guest is denied and cannot come back with the same token. Only hosts admit.
func TestLobbyAdmitAndDeny(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	anna := e.newPeer("anna", m, 1)
	anna.join(JoinRequest{})
	anna.waitMsg(0, "joined", nil)
	bruno := e.newPeer("bruno", m, 2)
	bruno.join(JoinRequest{})
	bruno.waitMsg(0, "joined", nil)

	giulia := e.newPeer("giulia", m, 0)
	if _, status, body := e.joinHTTP(m, 0, JoinRequest{Name: "  "}); status != http.StatusBadRequest || !strings.Contains(body, "nome") {
		t.Errorf("guest without a name: %d %s", status, body)
	}
	giulia.join(JoinRequest{Name: "Giulia Neri"})
	giulia.waitMsg(0, "lobby", nil)
	anna.waitMsg(0, "lobby_list", func(m rx) bool { return len(m.Waiting) == 1 && m.Waiting[0].Name == "Giulia Neri" })
	if slicesHaveType(bruno.messages(), "lobby_list") {
		t.Error("a member who may not admit was sent the lobby list")
	}
	if hasParticipant(anna.lastList(), giulia.id) {
		t.Error("a guest in the lobby is listed among the participants")
	}

	mark := giulia.mark()
	_ = giulia.send(map[string]any{"type": "offer", "sdp": "v=0"})
	giulia.waitError(mark, "in_lobby")

	mark = bruno.mark()
	_ = bruno.send(map[string]any{"type": "admit", "target": giulia.id})
	if msg := bruno.waitError(mark, "forbidden"); msg.Code != "forbidden" || msg.Ref != "admit" {
		t.Errorf("member admitting: %+v", msg)
	}

	_ = anna.send(map[string]any{"type": "admit", "target": giulia.id})
	if j := giulia.waitMsg(0, "joined", nil); j.Self.Role != RoleGuest {
		t.Errorf("guest joined as %s", j.Self.Role)
	}
	var types []string
	for _, msg := range giulia.messages() {
		if msg.Type != "error" { // the refused offer above
			types = append(types, msg.Type)
		}
	}
	if len(types) < 2 || types[0] != "lobby" || types[1] != "joined" {
		t.Errorf("guest's messages begin with %v, want lobby, joined", types)
	}
	everybodyReceives(t, 20, anna, bruno, giulia)

	marco := e.newPeer("marco", m, 0)
	marco.join(JoinRequest{Name: "Marco"})
	marco.waitMsg(0, "lobby", nil)
	anna.waitMsg(0, "lobby_list", func(m rx) bool { return len(m.Waiting) == 1 && m.Waiting[0].ID == marco.id })
	_ = anna.send(map[string]any{"type": "deny", "target": marco.id})
	marco.waitMsg(0, "denied", nil)
	marco.waitClosed()
	mark = marco.mark()
	marco.connect()
	if msg := marco.waitError(mark, "denied"); msg.Ref != "join" || !strings.Contains(msg.Message, "ammesso") {
		t.Errorf("denied guest coming back: %+v", msg)
	}
	marco.waitClosed()
	everybodyReceives(t, 10, anna, giulia)
}

// After a host locks the meeting and removes a participant, the removed one cannot come back:
// not with the old token, not with a new join. Nobody new gets in either. Unlocked again, the
// removed user may only knock at the lobby.
func TestRemovedCannotRejoinLockedRoom(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	anna, bruno := e.newPeer("anna", m, 1), e.newPeer("bruno", m, 2)
	for _, p := range []*peer{anna, bruno} {
		p.join(JoinRequest{})
		p.waitMsg(0, "joined", nil)
	}
	everybodyReceives(t, 10, anna, bruno)

	mark := bruno.mark()
	_ = anna.send(map[string]any{"type": "lock", "locked": true})
	bruno.waitMsg(mark, "room", func(m rx) bool { return m.Room.Locked })
	_ = anna.send(map[string]any{"type": "remove", "target": bruno.id})
	if msg := bruno.waitMsg(mark, "removed", nil); msg.By != "Anna Rossi" {
		t.Errorf("removed by %q", msg.By)
	}
	bruno.waitClosed()
	anna.waitMsg(0, "participants", func(m rx) bool { return !hasParticipant(m.Participants, bruno.id) })

	mark = bruno.mark()
	bruno.connect()
	bruno.waitError(mark, "removed")
	bruno.waitClosed()
	if _, status, body := e.joinHTTP(m, 2, JoinRequest{}); status != http.StatusForbidden || !strings.Contains(body, "rimosso") {
		t.Errorf("removed user joining a locked meeting: %d %s", status, body)
	}
	if _, status, body := e.joinHTTP(m, 0, JoinRequest{Name: "Ospite"}); status != http.StatusForbidden || !strings.Contains(body, "bloccata") {
		t.Errorf("guest joining a locked meeting: %d %s", status, body)
	}
	if _, status, _ := e.joinHTTP(m, 3, JoinRequest{}); status != http.StatusForbidden {
		t.Errorf("new user joining a locked meeting: %d", status)
	}

	_ = anna.send(map[string]any{"type": "lock", "locked": false})
	anna.waitMsg(0, "room", func(m rx) bool { return !m.Room.Locked })
	jr, status, body := e.joinHTTP(m, 2, JoinRequest{})
	if jr == nil || !jr.Lobby || jr.Participant != bruno.id {
		t.Fatalf("removed user after unlocking: %d %s", status, body)
	}
}

// A token that was not made with the server's key, or for another meeting, or has expired, is
// refused with a message that says so, and the connection is closed.
func TestJoinTokens(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	other := e.meeting(NewMeeting{Title: "Altra"})
	jr, _, _ := e.joinHTTP(m, 2, JoinRequest{})
	jrOther, _, _ := e.joinHTTP(other, 2, JoinRequest{})
	key, err := os.ReadFile(filepath.Join(e.dir, "keys", "conf-token.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(e.dir, "keys", "conf-token.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	parts := strings.Split(jr.Token, ".")
	forgedMAC := jr.Token[:len(jr.Token)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(jr.Token, "AA")]
	otherKey := (&tokens{key: make([]byte, 32), ttl: time.Minute, now: time.Now}).issue(m.PublicID, jr.Participant)
	expired := (&tokens{key: key, ttl: -time.Minute, now: time.Now}).issue(m.PublicID, jr.Participant)
	cases := []struct {
		name, token, reason, text string
	}{
		{"other participant", strings.Join([]string{parts[0], parts[1], "aaaaaaaaaaaaaaaa", parts[3], parts[4]}, "."), "token_invalid", "non è valido"},
		{"later expiry", strings.Join([]string{parts[0], parts[1], parts[2], "9999999999", parts[4]}, "."), "token_invalid", "non è valido"},
		{"bad mac", forgedMAC, "token_invalid", "non è valido"},
		{"other key", otherKey, "token_invalid", "non è valido"},
		{"other meeting", jrOther.Token, "token_invalid", "non è valido"},
		{"garbage", "x", "token_invalid", "non è valido"},
		{"expired", expired, "token_expired", "scaduto"},
	}
	for _, c := range cases {
		p := e.newPeer("bruno", m, 2)
		p.token = c.token
		p.connect()
		msg := p.waitMsg(0, "error", nil)
		if msg.Reason != c.reason || msg.Ref != "join" || !strings.Contains(msg.Message, c.text) {
			t.Errorf("%s: got %+v, want reason %s", c.name, msg, c.reason)
		}
		p.waitClosed()
		if slicesHaveType(p.messages(), "joined") {
			t.Errorf("%s: joined anyway", c.name)
		}
		p.close()
	}
	// The genuine token works.
	p := e.newPeer("bruno", m, 2)
	p.token, p.id = jr.Token, jr.Participant
	p.connect()
	p.waitMsg(0, "joined", nil)
}

func slicesHaveType(ms []rx, typ string) bool {
	for _, m := range ms {
		if m.Type == typ {
			return true
		}
	}
	return false
}

// A client asks for an ICE restart (its network changed): the server sends an offer with new ICE
// credentials, and once it is answered the media goes on.
func TestICERestart(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	anna, bruno := e.newPeer("anna", m, 1), e.newPeer("bruno", m, 2)
	for _, p := range []*peer{anna, bruno} {
		p.join(JoinRequest{})
		p.waitMsg(0, "joined", nil)
	}
	everybodyReceives(t, 10, anna, bruno)
	ufrag := func(sdp string) string {
		for _, l := range strings.Split(sdp, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "a=ice-ufrag:"); ok {
				return v
			}
		}
		return ""
	}
	before := ufrag(bruno.peerConn().RemoteDescription().SDP)
	mark := bruno.mark()
	_ = bruno.send(map[string]any{"type": "restart_ice"})
	offer := bruno.waitMsg(mark, "offer", nil)
	if u := ufrag(offer.SDP); u == "" || u == before {
		t.Errorf("ICE restart offer has ufrag %q, before %q", u, before)
	}
	everybodyReceives(t, 25, anna, bruno)
}
