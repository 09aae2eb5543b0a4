package conferencing

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/rocca-pa/rocca"
)

func TestDecodeMessage(t *testing.T) {
	good := []string{
		`{"v":1,"type":"join","token":"v1.a.b.1.x"}`,
		`{"v":1,"type":"offer","sdp":"v=0"}`,
		`{"v":1,"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"v":1,"type":"candidate","candidate":{"candidate":""}}`,
		`{"v":1,"type":"mute","audio":true}`,
		`{"v":1,"type":"tracks","sources":{"t1":"camera","t2":"screen"}}`,
		`{"v":1,"type":"tracks","sources":{}}`,
		`{"v":1,"type":"hand","raised":false}`,
		`{"v":1,"type":"chat","text":"  buongiorno  "}`,
		`{"v":1,"type":"layer","publisher":"p","track":"t","rid":"q"}`,
		`{"v":1,"type":"set_role","target":"p","role":"host"}`,
		`{"v":1,"type":"lock","locked":false}`,
		`{"v":1,"type":"end","future_field":1}`,
	}
	for _, g := range good {
		if _, err := DecodeMessage([]byte(g)); err != nil {
			t.Errorf("%s: %v", g, err)
		}
	}
	if m, _ := DecodeMessage([]byte(`{"v":1,"type":"chat","text":"  ciao  "}`)); m.Text != "ciao" {
		t.Errorf("chat text %q not trimmed", m.Text)
	}
	bad := map[string]string{
		``:                                  "malformed",
		`nope`:                              "malformed",
		`[]`:                                "malformed",
		`{"v":1,"type":"join"}`:             "bad_message",
		`{"type":"join","token":"x"}`:       "version",
		`{"v":2,"type":"join","token":"x"}`: "version",
		`{"v":1,"type":"dance"}`:            "unknown_type",
		`{"v":1}`:                           "unknown_type",
		`{"v":1,"type":"offer","sdp":""}`:   "bad_message",
		`{"v":1,"type":"candidate"}`:        "bad_message",
		`{"v":1,"type":"mute"}`:             "bad_message",
		`{"v":1,"type":"tracks","sources":{"t":"radio"}}`:                    "bad_message",
		`{"v":1,"type":"hand"}`:                                              "bad_message",
		`{"v":1,"type":"chat","text":"   "}`:                                 "chat_invalid",
		`{"v":1,"type":"layer","publisher":"p","track":"t","rid":"x"}`:       "bad_message",
		`{"v":1,"type":"admit"}`:                                             "bad_message",
		`{"v":1,"type":"set_role","target":"p","role":"emperor"}`:            "bad_message",
		`{"v":1,"type":"lock"}`:                                              "bad_message",
		`{"v":1,"type":"allow_unmute"}`:                                      "bad_message",
		`{"v":1,"type":"join","token":"` + strings.Repeat("a", 300) + `"}`:   "bad_message",
		`{"v":1,"type":"chat","text":"` + strings.Repeat("é", 2001) + `"}`:   "chat_invalid",
		"{\"v\":1,\"type\":\"chat\",\"text\":\"\xff\"}":                      "malformed",
		`{"v":1,"type":"offer","sdp":"` + strings.Repeat("a", 70<<10) + `"}`: "too_large",
	}
	for in, reason := range bad {
		_, err := DecodeMessage([]byte(in))
		var e *rocca.Error
		if !errors.As(err, &e) || e.Key != "conf.error."+reason {
			t.Errorf("%.60q: got %v, want reason %s", in, err, reason)
		}
	}
}

// FuzzDecodeMessage: any input is refused with a user error or gives a message that passes its own
// checks, within the limits; nothing panics.
func FuzzDecodeMessage(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzDecodeMessage/*")
	if len(seeds) == 0 {
		f.Add([]byte(`{"v":1,"type":"join","token":"v1.a.b.1.x"}`))
	}
	for _, s := range []string{`{"v":1,"type":"chat","text":"ciao"}`, `{"v":1,"type":"tracks","sources":{"a":"camera"}}`,
		`{"v":1,"type":"candidate","candidate":{"candidate":"c","sdpMid":"0"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			var e *rocca.Error
			if !errors.As(err, &e) || e.Key == "" || e.Code == rocca.EINTERNAL {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if m.V != ProtocolVersion {
			t.Fatalf("accepted version %d", m.V)
		}
		if err := m.check(); err != nil {
			t.Fatalf("accepted a message that fails its checks: %v", err)
		}
		if len(m.SDP) > maxSDP || utf8.RuneCountInString(m.Text) > maxChat || len(m.Sources) > maxSources {
			t.Fatalf("accepted a message over the limits")
		}
	})
}

// A client that sends garbage, messages out of order, a message too large, or a flood, gets an
// error message for each and is finally disconnected; the others keep their media and the server
// keeps accepting people.
func TestMisbehavingClient(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	anna, bruno := e.newPeer("anna", m, 1), e.newPeer("bruno", m, 2)
	for _, p := range []*peer{anna, bruno} {
		p.join(JoinRequest{})
		p.waitMsg(0, "joined", nil)
	}
	everybodyReceives(t, 10, anna, bruno)

	// Before joining: only join is accepted.
	carla := e.newPeer("carla", m, 3)
	jr, _, _ := e.joinHTTP(m, 3, JoinRequest{})
	carla.id, carla.token = jr.Participant, jr.Token
	if err := carla.dialOnly(); err != nil {
		t.Fatal(err)
	}
	_ = carla.send(map[string]any{"type": "offer", "sdp": "v=0"})
	if msg := carla.waitError(0, "not_joined"); msg.Ref != "offer" || msg.Code != "conflict" {
		t.Errorf("offer before join: %+v", msg)
	}
	_ = carla.send(map[string]any{"type": "join", "token": carla.token})
	carla.waitMsg(0, "joined", nil)
	everybodyReceives(t, 10, anna, bruno, carla)

	steps := []struct {
		raw    string
		reason string
	}{
		{`not json`, "malformed"},
		{`{"v":7,"type":"chat","text":"x"}`, "version"},
		{`{"v":1,"type":"teleport"}`, "unknown_type"},
		{`{"v":1,"type":"join","token":"` + carla.token + `"}`, "already_joined"},
		{`{"v":1,"type":"answer","sdp":"v=0\r\n"}`, "no_offer"},
		{`{"v":1,"type":"offer","sdp":"this is no sdp"}`, "sdp_refused"},
		{`{"v":1,"type":"admit","target":"nobody"}`, "forbidden"},
		{`{"v":1,"type":"mute"}`, "bad_message"},
	}
	for _, s := range steps {
		mark := carla.mark()
		if err := carla.sendRaw([]byte(s.raw)); err != nil {
			t.Fatal(err)
		}
		if msg := carla.waitError(mark, s.reason); msg.Message == "" || strings.HasPrefix(msg.Message, "[") {
			t.Errorf("%s: error without a readable message: %+v", s.raw, msg)
		}
	}
	mark := carla.mark()
	carla.mu.Lock()
	_ = carla.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	carla.mu.Unlock()
	carla.waitError(mark, "malformed")
	everybodyReceives(t, 10, anna, bruno, carla)

	// Too large: an error, then the connection is closed.
	mark = carla.mark()
	_ = carla.sendRaw([]byte(`{"v":1,"type":"chat","text":"` + strings.Repeat("x", MaxMessageSize) + `"}`))
	if msg := carla.waitError(mark, "too_large"); msg.Code != "too_large" {
		t.Errorf("too large: %+v", msg)
	}
	carla.waitClosed()
	anna.waitMsg(0, "participants", func(m rx) bool { return !hasParticipant(m.Participants, carla.id) })
	everybodyReceives(t, 10, anna, bruno)

	// A chat flood: rate limited, then disconnected.
	carla2 := e.newPeer("carla", m, 3)
	carla2.join(JoinRequest{})
	carla2.waitMsg(0, "joined", nil)
	for range 100 {
		if carla2.send(map[string]any{"type": "chat", "text": "spam"}) != nil {
			break
		}
	}
	carla2.waitError(0, "rate_limited")
	carla2.waitError(0, "too_many_errors")
	carla2.waitClosed()
	if n := countType(anna.messages(), "chat"); n > chatBurst+1 {
		t.Errorf("anna got %d chat messages of the flood, want at most %d", n, chatBurst+1)
	}
	everybodyReceives(t, 20, anna, bruno)

	// The server still lets people in.
	dario := e.newPeer("dario", m, 4)
	dario.join(JoinRequest{})
	dario.waitMsg(0, "joined", nil)
	everybodyReceives(t, 10, anna, bruno, dario)
}

func countType(ms []rx, typ string) int {
	n := 0
	for _, m := range ms {
		if m.Type == typ {
			n++
		}
	}
	return n
}

// dialOnly opens the WebSocket without sending join.
func (p *peer) dialOnly() error { return p.open(false) }
