package conferencing

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rocca-pa/rocca/conferencing/client"
)

// The public stream, tested with real peers: Pion clients as the councillors and as citizens
// (receive-only, through the viewer token and the public WebSocket), raw signalling clients
// where only the messages matter.

// publicRefusal is the error body of POST /pubblico/{stream}/join.
type publicRefusal struct {
	Code    string `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// publicJoin asks for a viewer token; header adds request headers (Accept-Language, Origin…).
func (e *env) publicJoin(stream string, header map[string]string) (*PublicJoinResponse, int, publicRefusal) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+"/pubblico/"+stream+"/join", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		var body struct{ Error publicRefusal }
		_ = json.Unmarshal(b, &body)
		return nil, res.StatusCode, body.Error
	}
	var jr PublicJoinResponse
	if err := json.Unmarshal(b, &jr); err != nil {
		e.t.Fatalf("join response %q: %v", b, err)
	}
	return &jr, res.StatusCode, publicRefusal{}
}

// newViewer is a receive-only Pion client for the public stream.
func (e *env) newViewer(name string) *peer {
	p := e.newPeer(name, nil, 0)
	p.publish = false
	return p
}

// watch gets a viewer token for stream and joins the public WebSocket with it.
func (p *peer) watch(stream string) {
	p.t.Helper()
	jr, status, why := p.e.publicJoin(stream, nil)
	if jr == nil {
		p.t.Fatalf("%s: public join refused (%d): %+v", p.name, status, why)
	}
	p.id, p.token = jr.Viewer, jr.Token
	if err := p.openPath(jr.WebSocket, jr.Token); err != nil {
		p.t.Fatalf("%s: dial: %v", p.name, err)
	}
}

// openPath connects the WebSocket at path and sends join with token.
func (p *peer) openPath(path, token string) error {
	h := http.Header{}
	h.Set("Origin", p.e.base)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.e.addr+path, h)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ws = ws
	p.mu.Unlock()
	p.wg.Add(1)
	go p.readLoop(ws)
	return p.send(map[string]any{"type": "join", "token": token})
}

// rawClient is a signalling-only member: it joins without media and keeps every message whole.
type rawClient struct {
	t    *testing.T
	ws   *websocket.Conn
	mu   sync.Mutex
	msgs []map[string]any
}

func (e *env) rawMember(m *Meeting, user int64) *rawClient {
	e.t.Helper()
	jr, status, body := e.joinHTTP(m, user, JoinRequest{})
	if jr == nil {
		e.t.Fatalf("join refused (%d): %s", status, body)
	}
	h := http.Header{}
	h.Set("Origin", e.base)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+e.addr+jr.WebSocket, h)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &rawClient{t: e.t, ws: ws}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			var msg map[string]any
			if err := ws.ReadJSON(&msg); err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, msg)
			c.mu.Unlock()
		}
	})
	e.t.Cleanup(func() { ws.Close(); wg.Wait() })
	if err := ws.WriteJSON(map[string]any{"v": ProtocolVersion, "type": "join", "token": jr.Token}); err != nil {
		e.t.Fatal(err)
	}
	c.wait(0, "joined", nil)
	return c
}

// mark is the number of messages received so far, for wait(since, …).
func (c *rawClient) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// wait waits for a message of type typ, received after since, for which match (if any) holds.
func (c *rawClient) wait(since int, typ string, match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	var got map[string]any
	waitFor(c.t, "member receiving "+typ, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.msgs[min(since, len(c.msgs)):] {
			if m["type"] == typ && (match == nil || match(m)) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

func viewers(n int) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["viewers"] == float64(n) }
}

// liveRoom is the meeting's live room, or nil.
func (e *env) liveRoom(m *Meeting) *room {
	e.svc.mu.Lock()
	defer e.svc.mu.Unlock()
	return e.svc.rooms[m.ID]
}

// streamOf creates the meeting's public stream id.
func (e *env) streamOf(m *Meeting) string {
	e.t.Helper()
	id, err := e.svc.PublicStreamID(context.Background(), m.PublicID)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// A citizen watches a public session: they receive the councillor's audio and video through the
// viewer token and the public WebSocket, count as a viewer (not a participant), and can do
// nothing but watch. Nothing they receive names the meeting.
func TestPublicViewerReceivesMedia(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{Title: "Consiglio comunale", Council: true})
	stream := e.streamOf(m)
	if again := e.streamOf(m); again != stream || stream == m.PublicID || len(stream) < 20 {
		t.Fatalf("stream id %q, again %q, meeting %q", stream, again, m.PublicID)
	}

	// Before anybody is there, and before the switch, the stream is not live.
	if jr, status, why := e.publicJoin(stream, nil); jr != nil || status != http.StatusConflict || why.Reason != "public_not_live" {
		t.Fatalf("join with nobody connected: %d %+v", status, why)
	}
	anna := e.newPeer("anna", m, 1)
	anna.join(JoinRequest{})
	anna.waitMsg(0, "joined", nil)
	bruno := e.rawMember(m, 2)
	if jr, _, why := e.publicJoin(stream, nil); jr != nil || why.Reason != "public_not_live" {
		t.Fatalf("join before the switch: %+v", why)
	}
	if err := e.svc.SetPublicStream(context.Background(), m.PublicID, true); err != nil {
		t.Fatal(err)
	}
	bruno.wait(0, "public", func(msg map[string]any) bool { return msg["live"] == true })

	giulia := e.newViewer("giulia")
	giulia.watch(stream)
	joined := giulia.waitMsg(0, "joined", nil)
	if first := giulia.messages()[0].Type; first != "joined" {
		t.Errorf("viewer's first message %q", first)
	}
	if joined.Room.ID != "" || joined.Self.ID != "" || len(joined.Participants) != 0 || len(joined.Chat) != 0 {
		t.Errorf("viewer's joined message has member data: %+v", joined)
	}
	giulia.receivesFrom(25, anna)
	for _, msg := range giulia.messages() {
		if msg.Type == "track_added" && (msg.Publisher != anna.id || msg.Name != "Anna Rossi") {
			t.Errorf("track announced as %+v", msg)
		}
	}

	// Members see a count, not a person.
	bruno.wait(0, "public", viewers(1))
	if hasParticipant(anna.lastList(), giulia.id) {
		t.Error("the viewer is listed as a participant")
	}
	if n := metricValue(t, e.svc, "rocca_meetings_public_viewers"); n != 1 {
		t.Errorf("viewers metric %v", n)
	}
	if r := e.liveRoom(m); r.viewerCount() != 1 || len(r.members) != 2 {
		t.Errorf("room has %d viewers and %d members", r.viewerCount(), len(r.members))
	}
	// A member who comes later learns the count on arrival.
	carla := e.rawMember(m, 3)
	carla.wait(0, "public", viewers(1))

	// A viewer may not chat, raise a hand, mute, or moderate; and sees no chat.
	mark := anna.mark()
	_ = anna.send(map[string]any{"type": "chat", "text": "Buongiorno a tutti"})
	anna.waitMsg(mark, "chat", nil)
	since := giulia.mark()
	for _, msg := range []map[string]any{
		{"type": "chat", "text": "Posso parlare?"},
		{"type": "hand", "raised": true},
		{"type": "mute", "audio": false},
		{"type": "mute_all"},
		{"type": "end"},
	} {
		_ = giulia.send(msg)
		giulia.waitMsg(since, "error", func(m rx) bool { return m.Ref == msg["type"] && m.Reason == "forbidden" })
	}
	for _, msg := range giulia.messages() {
		switch msg.Type {
		case "chat", "participants", "lobby_list", "room", "council_state", "public":
			t.Errorf("the viewer received %s", msg.Type)
		}
	}

	// Nothing the viewer got names the meeting.
	for _, msg := range giulia.messages() {
		b, _ := json.Marshal(msg)
		if strings.Contains(string(b), m.PublicID) {
			t.Errorf("a %s message to the viewer holds the meeting id", msg.Type)
		}
	}

	// The two kinds of token do not open each other's doors.
	jr, _, _ := e.publicJoin(stream, nil)
	if strings.Contains(jr.Token, m.PublicID) || strings.Contains(jr.WebSocket, m.PublicID) {
		t.Errorf("viewer token or path %q %q holds the meeting id", jr.Token, jr.WebSocket)
	}
	intruder := e.newPeer("intruder", m, 0)
	intruder.token = jr.Token
	intruder.connect()
	intruder.waitError(0, "token_invalid")
	meetingToken, _, _ := e.joinHTTP(m, 3, JoinRequest{})
	sneak := e.newViewer("sneak")
	if err := sneak.openPath("/pubblico/"+stream+"/ws", meetingToken.Token); err != nil {
		t.Fatal(err)
	}
	sneak.waitError(0, "token_invalid")
	sneak.waitClosed()

	mark = bruno.mark()
	giulia.leave()
	bruno.wait(mark, "public", viewers(0))
	if n := metricValue(t, e.svc, "rocca_meetings_public_viewers"); n != 0 {
		t.Errorf("viewers metric after leaving %v", n)
	}
}

// The viewer cap: viewer N+1 is refused with a message that says so, at the join endpoint and at
// the WebSocket; a place that frees up can be taken.
func TestPublicViewerCap(t *testing.T) {
	e := newEnv(t)
	e.svc.cfg.PublicViewers = 2
	m := e.meeting(NewMeeting{Council: true})
	stream := e.streamOf(m)
	anna := e.newPeer("anna", m, 1)
	anna.join(JoinRequest{})
	anna.waitMsg(0, "joined", nil)
	if err := e.svc.SetPublicStream(context.Background(), m.PublicID, true); err != nil {
		t.Fatal(err)
	}
	v1, v2, v3 := e.newViewer("v1"), e.newViewer("v2"), e.newViewer("v3")
	v1.watch(stream)
	v1.waitMsg(0, "joined", nil)
	late, _, _ := e.publicJoin(stream, nil) // a token got while there was room
	v2.watch(stream)
	v2.waitMsg(0, "joined", nil)

	jr, status, why := e.publicJoin(stream, nil)
	if jr != nil || status != http.StatusConflict || why.Reason != "public_full" ||
		why.Message != "La diretta ha raggiunto il numero massimo di spettatori (2). Nuovo tentativo tra poco…" {
		t.Fatalf("third viewer at the endpoint: %d %+v", status, why)
	}
	if _, _, why := e.publicJoin(stream, map[string]string{"Accept-Language": "en"}); why.Message != "The stream has reached its maximum number of viewers (2). Trying again shortly…" {
		t.Errorf("in English: %+v", why)
	}
	// The WebSocket checks again: the token does not reserve a place.
	v3.id = late.Viewer
	if err := v3.openPath(late.WebSocket, late.Token); err != nil {
		t.Fatal(err)
	}
	refused := v3.waitError(0, "public_full")
	if refused.Ref != "join" || refused.Code != "conflict" || !strings.Contains(refused.Message, "(2)") {
		t.Errorf("refusal %+v", refused)
	}
	v3.waitClosed()
	if status, _, page := e.get("/pubblico/"+stream, 0); status != http.StatusOK || !strings.Contains(page, `data-state="full"`) {
		t.Errorf("page when full: %d, state full missing", status)
	}

	// A reconnecting viewer takes its own place back, even when full.
	again := e.newViewer("v2-again")
	again.id = v2.id
	if err := again.openPath("/pubblico/"+stream+"/ws", v2.token); err != nil {
		t.Fatal(err)
	}
	again.waitMsg(0, "joined", nil)
	v2.waitMsg(0, "replaced", nil)

	v1.leave()
	waitFor(t, "a free place", func() bool { return e.liveRoom(m).viewerCount() == 1 })
	v4 := e.newViewer("v4")
	v4.watch(stream)
	v4.waitMsg(0, "joined", nil)
	v4.receivesFrom(10, anna)
}

// When the last member leaves, the room closes and the viewers are told the stream is not live;
// their page then waits for it to start again.
func TestPublicStreamEndsWithTheRoom(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{Council: true})
	stream := e.streamOf(m)
	bruno := e.rawMember(m, 2) // no media: nothing to renegotiate when he goes
	e.liveRoom(m).setPublicStream(true)
	v := e.newViewer("giulia")
	v.watch(stream)
	v.waitMsg(0, "answer", nil)
	bruno.ws.Close()
	ended := v.waitMsg(0, "ended", nil)
	if ended.Reason != "not_live" || !strings.HasPrefix(ended.Message, "La diretta non è in corso") {
		t.Errorf("viewer told %+v", ended)
	}
	v.waitClosed()
	waitFor(t, "the room closed", func() bool { return e.liveRoom(m) == nil })
	if _, _, why := e.publicJoin(stream, nil); why.Reason != "public_not_live" {
		t.Errorf("join after the room closed: %+v", why)
	}
}

// Switching to a closed session cuts every viewer within 2 s, refuses new viewers with a clear
// message, and switching back lets them in again.
func TestPublicClosedSessionCutsViewers(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{Council: true})
	stream := e.streamOf(m)
	anna := e.newPeer("anna", m, 1)
	anna.join(JoinRequest{})
	anna.waitMsg(0, "joined", nil)
	bruno := e.rawMember(m, 2)
	r := e.liveRoom(m)
	r.setPublicStream(true)
	giulia, marco := e.newViewer("giulia"), e.newViewer("marco")
	giulia.watch(stream)
	marco.watch(stream)
	giulia.receivesFrom(10, anna)
	marco.receivesFrom(10, anna)
	bruno.wait(0, "public", viewers(2))
	mark := bruno.mark()

	start := time.Now()
	if cut := r.setPublicStream(false); cut != 2 {
		t.Errorf("%d viewers cut, want 2", cut)
	}
	// The media is gone when the switch returns: neither viewer is in the SFU room any more.
	for _, v := range []*peer{giulia, marco} {
		if r.media.Participant(v.id) != nil {
			t.Errorf("%s still in the SFU room after the switch", v.name)
		}
	}
	for _, v := range []*peer{giulia, marco} {
		ended := v.waitMsg(0, "ended", nil)
		v.waitClosed()
		if ended.Reason != "closed_session" || !strings.HasPrefix(ended.Message, "La seduta è ora riservata") {
			t.Errorf("%s told %+v", v.name, ended)
		}
	}
	elapsed := time.Since(start)
	t.Logf("both viewers told and disconnected %v after the switch", elapsed)
	if elapsed > 2*time.Second {
		t.Errorf("the cut took %v, more than 2 s", elapsed)
	}
	bruno.wait(mark, "public", func(msg map[string]any) bool { return msg["live"] == false && msg["viewers"] == float64(0) })

	// Nobody new gets in, and the page says why.
	jr, status, why := e.publicJoin(stream, nil)
	if jr != nil || status != http.StatusForbidden || why.Reason != "public_closed" || !strings.HasPrefix(why.Message, "La seduta è ora riservata") {
		t.Fatalf("join while closed: %d %+v", status, why)
	}
	if _, _, page := e.get("/pubblico/"+stream, 0); !strings.Contains(page, "La seduta è ora riservata") || !strings.Contains(page, `data-state="closed"`) {
		t.Error("the page does not say the session is closed")
	}
	if _, _, page := e.get("/pubblico/"+stream, 0, "Accept-Language", "en-GB,en;q=0.9"); !strings.Contains(page, "The session is now closed to the public") {
		t.Error("the English page does not say the session is closed")
	}
	// A token got before the switch is refused at the WebSocket too.
	late := e.newViewer("late")
	late.id = giulia.id
	if err := late.openPath("/pubblico/"+stream+"/ws", giulia.token); err != nil {
		t.Fatal(err)
	}
	late.waitError(0, "public_closed")
	late.waitClosed()

	// Public again: viewers come back.
	if err := e.svc.SetPublicStream(context.Background(), m.PublicID, true); err != nil {
		t.Fatal(err)
	}
	back := e.newViewer("back")
	back.watch(stream)
	back.receivesFrom(10, anna)
}

// The public page: no login, the stream id only (never the meeting id), Italian first and English
// by Accept-Language; unknown streams are not found; the join endpoint follows the site's
// cross-origin rules and limits each address.
func TestPublicPage(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{Title: "Consiglio comunale di marzo", Council: true})
	stream := e.streamOf(m)
	status, _, page := e.get("/pubblico/"+stream, 0)
	if status != http.StatusOK {
		t.Fatalf("page: %d", status)
	}
	if strings.Contains(page, m.PublicID) {
		t.Error("the public page holds the meeting id")
	}
	for _, want := range []string{"Consiglio comunale di marzo", "Diretta pubblica", `data-stream="` + stream + `"`,
		`data-state="not_live"`, "La diretta non è in corso", "/meetings/static/public.js?v="} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, tag := range scriptTag.FindAllString(page, -1) {
		if !strings.Contains(tag, `src="`) && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("inline script on the public page: %s", tag)
		}
	}
	// Every text the script shows is in the page's JSON block: the keys it names, and the states.
	block := regexp.MustCompile(`(?s)<script type="application/json" id="public-i18n">(.*?)</script>`).FindStringSubmatch(page)
	var texts map[string]string
	if block == nil || json.Unmarshal([]byte(block[1]), &texts) != nil {
		t.Fatal("no JSON text block on the public page")
	}
	src, _ := fs.ReadFile(client.Static(), "public.js")
	used := []string{"not_live", "closed", "full", "ended", "unavailable", "error"}
	for _, k := range regexp.MustCompile(`\bsay\("([a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		used = append(used, k[1])
	}
	for _, k := range used {
		if v := texts[k]; v == "" || strings.HasPrefix(v, "[") {
			t.Errorf("public.js uses text %q, missing from the page (%q)", k, v)
		}
	}
	if texts["full"] != "La diretta ha raggiunto il numero massimo di spettatori (200). Nuovo tentativo tra poco…" {
		t.Errorf("full text %q", texts["full"])
	}
	if _, _, en := e.get("/pubblico/"+stream, 0, "Accept-Language", "en"); !strings.Contains(en, "Public stream") || !strings.Contains(en, "The stream is not live") {
		t.Error("no English page for Accept-Language: en")
	}
	if status, _, _ := e.get("/pubblico/nonesiste", 0); status != http.StatusNotFound {
		t.Errorf("unknown stream: %d", status)
	}
	if _, status, why := e.publicJoin("nonesiste", nil); status != http.StatusNotFound || why.Reason != "public_not_found" {
		t.Errorf("join of an unknown stream: %d %+v", status, why)
	}
	if _, err := e.svc.PublicStreamID(context.Background(), "nonesiste"); err == nil {
		t.Error("a stream id for an unknown meeting")
	}
	if err := e.svc.SetPublicStream(context.Background(), m.PublicID, true); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("switching a meeting nobody is in: %v", err)
	}
	// The client's files hold no meeting id either (they are the same for every stream).
	if status, _, js := e.get("/meetings/static/public.js", 0); status != http.StatusOK || !strings.Contains(js, "/pubblico/") {
		t.Errorf("public.js: %d", status)
	}

	// Another site cannot ask for a token in a visitor's name.
	if _, status, _ := e.publicJoin(stream, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); status != http.StatusForbidden {
		t.Errorf("cross-site join: %d", status)
	}
	// One address gets a generous budget, then waits.
	throttled := 0
	for i := range 2 * publicJoinBurst {
		if _, status, why := e.publicJoin(stream, nil); status == http.StatusTooManyRequests {
			if why.Reason != "public_throttled" {
				t.Errorf("throttled with %+v", why)
			}
			throttled = i + 1
			break
		}
	}
	if throttled < publicJoinBurst {
		t.Errorf("throttled at request %d, want after %d", throttled, publicJoinBurst)
	}
}

// FuzzVerifyViewer: any string a visitor sends as a viewer token is refused without panicking,
// unless it is exactly a token the server issued for that stream.
func FuzzVerifyViewer(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	tk := &tokens{key: []byte("0123456789abcdef0123456789abcdef"), ttl: time.Minute, now: func() time.Time { return now }}
	good := tk.issueViewer("stream1", "vabc")
	f.Add(good)
	f.Add("p1.stream1.vabc.1800000060.")
	f.Add("v1.stream1.vabc.1800000060.xyz")
	f.Add(strings.Repeat(".", 300))
	f.Fuzz(func(t *testing.T, token string) {
		id, err := tk.verifyViewer(token, "stream1")
		if (err == nil) != (token == good) {
			t.Fatalf("token %q: id %q, err %v", token, id, err)
		}
		if err == nil && id != "vabc" {
			t.Fatalf("viewer %q", id)
		}
	})
}
