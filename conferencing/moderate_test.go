package conferencing

import (
	"net/http"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// The host mutes a participant: the server stops forwarding their audio (whatever their client
// keeps sending), tells them, and shows it to everybody. While the host forbids unmuting they
// cannot unmute themselves; once allowed they can, and their audio flows again.
func TestHostMutes(t *testing.T) {
	_, _, anna, bruno, carla := threeInARoom(t, 10)

	mark := bruno.mark()
	_ = anna.send(map[string]any{"type": "mute_participant", "target": bruno.id})
	if msg := bruno.waitMsg(mark, "muted", nil); msg.By != "Anna Rossi" {
		t.Errorf("muted by %q", msg.By)
	}
	carla.waitMsg(0, "participants", func(m rx) bool {
		v, _ := viewOf(m.Participants, bruno.id)
		return v.Muted && v.ForcedMute
	})
	assertSilent(t, anna, bruno, "audio")
	anna.receivesFrom(10, carla)
	if n := anna.received(bruno.id, "video"); !waitMore(anna, bruno.id, "video", n) {
		t.Error("bruno's video stopped too when only his microphone was muted")
	}

	// Hosts forbid unmuting: bruno's attempt is refused.
	_ = anna.send(map[string]any{"type": "allow_unmute", "allowed": false})
	bruno.waitMsg(mark, "room", func(m rx) bool { return !m.Room.UnmuteAllowed })
	mark = bruno.mark()
	_ = bruno.send(map[string]any{"type": "mute", "audio": false})
	if msg := bruno.waitError(mark, "unmute_forbidden"); msg.Code != "forbidden" {
		t.Errorf("unmute while forbidden: %+v", msg)
	}
	assertSilent(t, anna, bruno, "audio")

	// Allowed again: bruno unmutes and is heard.
	_ = anna.send(map[string]any{"type": "allow_unmute", "allowed": true})
	bruno.waitMsg(mark, "room", func(m rx) bool { return m.Room.UnmuteAllowed })
	_ = bruno.send(map[string]any{"type": "mute", "audio": false})
	anna.receivesFrom(25, bruno)
	carla.waitMsg(0, "participants", func(m rx) bool {
		v, _ := viewOf(m.Participants, bruno.id)
		return !v.Muted && !v.ForcedMute
	})

	// Mute all: everybody but the hosts.
	mark = carla.mark()
	markB := bruno.mark()
	_ = anna.send(map[string]any{"type": "mute_all"})
	carla.waitMsg(mark, "muted", nil)
	bruno.waitMsg(markB, "muted", nil)
	assertSilent(t, anna, carla, "audio")
	bruno.receivesFrom(10, anna)

	// A member cannot mute anybody.
	mark = bruno.mark()
	_ = bruno.send(map[string]any{"type": "mute_participant", "target": anna.id})
	bruno.waitError(mark, "forbidden")
}

// The host turns a participant's camera off: the server stops forwarding that camera (their
// microphone goes on), tells them and shows it; they may turn it on again themselves, and a member
// cannot stop anybody's camera.
func TestHostStopsCamera(t *testing.T) {
	_, _, anna, bruno, carla := threeInARoom(t, 10)

	mark := bruno.mark()
	_ = anna.send(map[string]any{"type": "stop_camera", "target": bruno.id})
	if msg := bruno.waitMsg(mark, "camera_stopped", nil); msg.By != "Anna Rossi" {
		t.Errorf("camera stopped by %q", msg.By)
	}
	carla.waitMsg(0, "participants", func(m rx) bool {
		v, _ := viewOf(m.Participants, bruno.id)
		return !v.Camera
	})
	assertSilent(t, anna, bruno, "video") // his client keeps sending: the server holds it back
	if n := anna.received(bruno.id, "audio"); !waitMore(anna, bruno.id, "audio", n) {
		t.Error("bruno's microphone stopped too when only his camera was turned off")
	}

	// A member may not; bruno turns his camera on again and is seen.
	_ = bruno.send(map[string]any{"type": "stop_camera", "target": anna.id})
	bruno.waitError(mark, "forbidden")
	_ = bruno.send(map[string]any{"type": "mute", "video": false})
	if n := anna.received(bruno.id, "video"); !waitMore(anna, bruno.id, "video", n) {
		t.Error("bruno's video does not come back after he turned his camera on")
	}
	carla.waitMsg(0, "participants", func(m rx) bool {
		v, _ := viewOf(m.Participants, bruno.id)
		return v.Camera
	})
}

// threeInARoom joins anna (the host), bruno and carla to a new meeting and waits until each
// has received n packets from the others.
func threeInARoom(t *testing.T, n int64) (*env, *Meeting, *peer, *peer, *peer) {
	t.Helper()
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	anna, bruno, carla := e.newPeer("anna", m, 1), e.newPeer("bruno", m, 2), e.newPeer("carla", m, 3)
	for _, p := range []*peer{anna, bruno, carla} {
		p.join(JoinRequest{})
		p.waitMsg(0, "joined", nil)
	}
	everybodyReceives(t, n, anna, bruno, carla)
	return e, m, anna, bruno, carla
}

// assertSilent checks that p receives no more packets of kind from o.
func assertSilent(t *testing.T, p, o *peer, kind string) {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // packets already in flight
	if waitMore(p, o.id, kind, p.received(o.id, kind)) {
		t.Errorf("%s still receives %s from %s", p.name, kind, o.name)
	}
}

// waitMore reports whether p receives any packet of kind from id within a second.
func waitMore(p *peer, id, kind string, n int64) bool {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if p.received(id, kind) > n {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// The host makes another participant host, who may then lock the meeting; raising a hand and
// chatting reach everybody, and a late comer gets the chat so far. Ending the meeting sends
// everybody away; only a host may open it again.
func TestHostsHandsChatAndEnd(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	anna, bruno := e.newPeer("anna", m, 1), e.newPeer("bruno", m, 2)
	for _, p := range []*peer{anna, bruno} {
		p.join(JoinRequest{})
		p.waitMsg(0, "joined", nil)
	}
	mark := bruno.mark()
	_ = bruno.send(map[string]any{"type": "lock", "locked": true})
	bruno.waitError(mark, "forbidden")
	_ = anna.send(map[string]any{"type": "set_role", "target": bruno.id, "role": "host"})
	bruno.waitMsg(mark, "participants", func(m rx) bool {
		v, _ := viewOf(m.Participants, bruno.id)
		return v.Role == RoleHost
	})
	_ = bruno.send(map[string]any{"type": "lock", "locked": true})
	anna.waitMsg(0, "room", func(m rx) bool { return m.Room.Locked })
	_ = bruno.send(map[string]any{"type": "lock", "locked": false})
	anna.waitMsg(0, "room", func(m rx) bool { return !m.Room.Locked })

	_ = bruno.send(map[string]any{"type": "hand", "raised": true})
	anna.waitMsg(0, "participants", func(m rx) bool { v, _ := viewOf(m.Participants, bruno.id); return v.Hand })
	_ = anna.send(map[string]any{"type": "lower_hand", "target": bruno.id})
	bruno.waitMsg(0, "participants", func(m rx) bool { v, _ := viewOf(m.Participants, bruno.id); return !v.Hand && v.Role == RoleHost })

	_ = bruno.send(map[string]any{"type": "chat", "text": "Buongiorno a tutti"})
	if msg := anna.waitMsg(0, "chat", nil); msg.Name != "Bruno Bianchi" || msg.From != bruno.id || msg.Text != "Buongiorno a tutti" {
		t.Errorf("chat: %+v", msg)
	}
	carla := e.newPeer("carla", m, 3)
	carla.join(JoinRequest{})
	j := carla.waitMsg(0, "joined", nil)
	if len(j.Participants) != 3 || len(j.Chat) != 1 || j.Chat[0].Text != "Buongiorno a tutti" || j.Chat[0].Name != "Bruno Bianchi" {
		t.Errorf("carla joined with %d participants and chat %+v", len(j.Participants), j.Chat)
	}

	_ = anna.send(map[string]any{"type": "end"})
	for _, p := range []*peer{anna, bruno, carla} {
		if msg := p.waitMsg(0, "ended", nil); msg.By != "Anna Rossi" {
			t.Errorf("%s: ended by %q", p.name, msg.By)
		}
		p.waitClosed()
	}
	if _, status, body := e.joinHTTP(m, 3, JoinRequest{}); status != http.StatusGone {
		t.Errorf("joining an ended meeting: %d %s", status, body)
	}
	if _, status, _ := e.joinHTTP(m, 0, JoinRequest{Name: "Ospite"}); status != http.StatusGone {
		t.Errorf("guest joining an ended meeting: %d", status)
	}
	res, err := http.Get(e.base + "/meetings/" + m.PublicID)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusGone {
		t.Errorf("page of an ended meeting: %d", res.StatusCode)
	}
	// The host opens it again by joining.
	anna2 := e.newPeer("anna", m, 1)
	anna2.join(JoinRequest{})
	anna2.waitMsg(0, "joined", nil)
	if got, _ := e.svc.Meeting(t.Context(), m.PublicID); got.Ended() {
		t.Error("meeting still ended after its host joined")
	}
}

// The server restarts while two participants are in a meeting: they are told, lose the
// connection, and come back by themselves with their latest tokens (the key survives the restart)
// and their media flows again.
func TestServerRestartReconnects(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	anna, bruno := e.newPeer("anna", m, 1), e.newPeer("bruno", m, 2)
	for _, p := range []*peer{anna, bruno} {
		p.reconnect = true
		p.join(JoinRequest{})
		p.waitMsg(0, "joined", nil)
	}
	everybodyReceives(t, 20, anna, bruno)
	marks := map[*peer]int{anna: anna.mark(), bruno: bruno.mark()}

	e.restart()

	for _, p := range []*peer{anna, bruno} {
		p.waitMsg(marks[p], "reconnect", nil)
		p.waitMsg(marks[p], "joined", nil)
	}
	everybodyReceives(t, 25, anna, bruno)
	if n := e.svc.liveCount(m.ID); n != 2 {
		t.Errorf("%d in the room after the restart, want 2", n)
	}
}

// A participant whose browser may use only relay candidates gets TURN credentials at join and
// exchanges media through the embedded TURN server.
func TestRelayThroughTURN(t *testing.T) {
	e := newEnvWith(t, true)
	m := e.meeting(NewMeeting{})
	anna, bruno := e.newPeer("anna", m, 1), e.newPeer("bruno", m, 2)
	anna.join(JoinRequest{})
	j := anna.waitMsg(0, "joined", nil)
	if len(j.ICEServers) != 1 || len(j.ICEServers[0].URLs) == 0 || j.ICEServers[0].Credential == "" {
		t.Fatalf("ice servers at join: %+v", j.ICEServers)
	}
	bruno.relayOnly = true
	bruno.join(JoinRequest{})
	bruno.waitMsg(0, "joined", nil)
	everybodyReceives(t, 20, anna, bruno)
	pair, err := bruno.peerConn().SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err == nil && pair != nil && pair.Local.Typ != webrtc.ICECandidateTypeRelay {
		t.Errorf("bruno uses a %s candidate, want relay", pair.Local.Typ)
	}
	waitFor(t, "the server to see bruno relayed", func() bool { return e.svc.memberStats(m.ID, bruno.id).Remote.Type == "relay" })
	var relayed float64
	waitFor(t, "the relay metric", func() bool {
		relayed = metricValue(t, e.svc, "rocca_meetings_turn_relayed_participants")
		return relayed == 1
	})
}
