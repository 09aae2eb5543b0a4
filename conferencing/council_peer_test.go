package conferencing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
)

// Council tests: the accounts of an assembly, a server whose logs are kept, and a light Pion
// client (cpeer) that joins through the real endpoints and publishes a small Opus track.

// The council's accounts: members 101…, the President and the Secretary.
const (
	councilChair     int64 = 150
	councilSecretary int64 = 151
)

func councilMember(i int) int64 { return 100 + int64(i) } // i from 1

// UserByID and Users make the test directory a UserDirectory.
func (directory) UserByID(_ context.Context, id int64) (*rocca.User, error) {
	if u := testUsers[id]; u != nil {
		return u, nil
	}
	return nil, rocca.Errorf(rocca.ENOTFOUND, "no user %d", id)
}

func (directory) Users(context.Context) ([]*rocca.User, error) {
	return slices.Collect(maps.Values(testUsers)), nil
}

// addCouncilUsers adds n members, the President and the Secretary to the test accounts, before
// the server starts (which copies them into its users table); they go when the test ends.
func addCouncilUsers(t *testing.T, n int) {
	add := map[int64]*rocca.User{
		councilChair:     {ID: councilChair, Email: "presidente@comune.test", Name: "Maria Neri", Role: rocca.RoleCouncillor},
		councilSecretary: {ID: councilSecretary, Email: "segretario@comune.test", Name: "Luca Gallo", Role: rocca.RoleStaff},
	}
	for i := 1; i <= n; i++ {
		id := councilMember(i)
		add[id] = &rocca.User{ID: id, Email: fmt.Sprintf("consigliere%02d@comune.test", i),
			Name: fmt.Sprintf("Consigliere %02d", i), Role: rocca.RoleCouncillor}
	}
	maps.Copy(testUsers, add)
	t.Cleanup(func() {
		for id := range add {
			delete(testUsers, id)
		}
	})
}

// logBuffer keeps every log line of the server, for the tests that search them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newCouncilEnv starts a server for a council of n seats (all counting for the quorum, majority
// rule) with its logs, Debug included, kept in the returned buffer; the meeting is set up.
func newCouncilEnv(t *testing.T, n int, public bool) (*env, *Meeting, *logBuffer) {
	t.Helper()
	addCouncilUsers(t, n)
	e := newEnv(t)
	logs := &logBuffer{}
	e.stop() // start again with a logger that keeps everything
	e.log = slog.New(slog.NewMultiHandler(e.log.Handler(),
		slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	e.restart()
	m := e.meeting(NewMeeting{Title: "Consiglio comunale", Council: true})
	setup := CouncilSetup{Chair: councilChair, Secretary: councilSecretary, Public: public,
		Agenda: []string{"Approvazione del verbale della seduta precedente", "Bilancio di previsione 2026"}}
	for i := 1; i <= n; i++ {
		setup.Seats = append(setup.Seats, Seat{UserID: councilMember(i), Seat: i, CountsForQuorum: true})
	}
	setup.Quorum.Kind = "majority"
	if _, err := e.svc.SetCouncil(context.Background(), m.PublicID, setup); err != nil {
		t.Fatal(err)
	}
	return e, m, logs
}

// crx is a server message as the council tests read it.
type crx struct {
	Type       string            `json:"type"`
	SDP        string            `json:"sdp"`
	Candidate  *Candidate        `json:"candidate"`
	ICEServers []ICEServer       `json:"ice_servers"`
	Self       participantView   `json:"self"`
	State      *councilStateView `json:"state"`
	Key        string            `json:"key"`
	Text       string            `json:"text"`
	Code       string            `json:"code"`
	Reason     string            `json:"reason"`
	Message    string            `json:"message"`
	Ref        string            `json:"ref"`
	By         string            `json:"by"`
}

// cpeer is one person of the session: the signalling WebSocket and, with media, a Pion
// connection publishing one Opus track (five packets a second, enough for the SFU's liveness).
type cpeer struct {
	t     *testing.T
	e     *env
	name  string
	m     *Meeting
	user  int64
	media bool

	mu    sync.Mutex
	ws    *websocket.Conn
	pc    *webrtc.PeerConnection
	id    string
	role  Role
	msgs  []crx
	state *councilStateView
	stop  chan struct{}
	done  bool
	wg    sync.WaitGroup

	sending atomic.Bool // audio packets go out
}

func (e *env) newCouncilPeer(name string, m *Meeting, user int64, media bool) *cpeer {
	p := &cpeer{t: e.t, e: e, name: name, m: m, user: user, media: media, stop: make(chan struct{})}
	p.sending.Store(true)
	e.t.Cleanup(p.close)
	return p
}

// join enters the meeting and waits for "joined".
func (p *cpeer) join() {
	p.t.Helper()
	jr, status, body := p.e.joinHTTP(p.m, p.user, JoinRequest{})
	if jr == nil {
		p.t.Fatalf("%s: join refused (%d): %s", p.name, status, body)
	}
	h := http.Header{}
	h.Set("Origin", p.e.base)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.e.addr+jr.WebSocket, h)
	if err != nil {
		p.t.Fatalf("%s: dial: %v", p.name, err)
	}
	p.mu.Lock()
	p.ws, p.id, p.role = ws, jr.Participant, jr.Role
	p.mu.Unlock()
	p.wg.Add(1)
	go p.readLoop(ws)
	p.send(map[string]any{"type": "join", "token": jr.Token})
	p.waitMsg(0, "joined", nil)
}

func (p *cpeer) send(msg map[string]any) {
	msg["v"] = ProtocolVersion
	b, _ := json.Marshal(msg)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ws == nil {
		return
	}
	_ = p.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = p.ws.WriteMessage(websocket.TextMessage, b)
}

// council sends a council action with its fields (key, value, …).
func (p *cpeer) council(action string, kv ...any) {
	msg := map[string]any{"type": TypeCouncil, "action": action}
	for i := 0; i+1 < len(kv); i += 2 {
		msg[kv[i].(string)] = kv[i+1]
	}
	p.send(msg)
}

func (p *cpeer) readLoop(ws *websocket.Conn) {
	defer p.wg.Done()
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var m crx
		if err := json.Unmarshal(b, &m); err != nil {
			p.t.Errorf("%s: bad JSON %q", p.name, b)
			continue
		}
		p.mu.Lock()
		p.msgs = append(p.msgs, m)
		if m.Type == "council_state" {
			p.state = m.State
		}
		p.mu.Unlock()
		switch m.Type {
		case "joined":
			if p.media {
				p.startMedia(m.ICEServers)
			}
		case "offer":
			p.answer(m.SDP)
		case "candidate":
			if pc := p.peerConn(); pc != nil && m.Candidate != nil {
				_ = pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate,
					SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex})
			}
		case "answer":
			if pc := p.peerConn(); pc != nil {
				_ = pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
			}
		}
	}
}

func (p *cpeer) peerConn() *webrtc.PeerConnection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pc
}

// startMedia makes the Pion connection (loopback, no interceptors: as light as it gets) and
// publishes one Opus track.
func (p *cpeer) startMedia(servers []ICEServer) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		p.t.Errorf("%s: codecs: %v", p.name, err)
		return
	}
	se := webrtc.SettingEngine{}
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		p.t.Errorf("%s: peer connection: %v", p.name, err)
		return
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			j := c.ToJSON()
			p.send(map[string]any{"type": "candidate", "candidate": map[string]any{
				"candidate": j.Candidate, "sdpMid": j.SDPMid, "sdpMLineIndex": j.SDPMLineIndex}})
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
		}
	})
	audio, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, p.name+"-audio", p.name)
	if _, err := pc.AddTrack(audio); err != nil {
		p.t.Errorf("%s: add audio: %v", p.name, err)
		return
	}
	p.mu.Lock()
	p.pc = pc
	p.mu.Unlock()
	p.wg.Add(1)
	go p.sendAudio(pc, audio)
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.t.Errorf("%s: offer: %v", p.name, err)
		return
	}
	p.send(map[string]any{"type": "tracks", "sources": map[string]string{p.name + "-audio": SourceMicrophone}})
	p.send(map[string]any{"type": "offer", "sdp": offer.SDP})
}

// sendAudio writes a small Opus packet every 200 ms while sending is on.
func (p *cpeer) sendAudio(pc *webrtc.PeerConnection, audio *webrtc.TrackLocalStaticRTP) {
	defer p.wg.Done()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		if pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
			return
		}
		seq++
		ts += 9600
		if p.sending.Load() {
			_ = audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts},
				Payload: []byte{0xfc, 0xff, 0xfe}})
		}
	}
}

func (p *cpeer) answer(sdp string) {
	pc := p.peerConn()
	if pc == nil {
		return
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		if !p.wasCut(pc) {
			p.t.Errorf("%s: set offer: %v", p.name, err)
		}
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(answer)
	}
	if err != nil {
		if !p.wasCut(pc) {
			p.t.Errorf("%s: answer: %v", p.name, err)
		}
		return
	}
	p.send(map[string]any{"type": "answer", "sdp": answer.SDP})
}

// wasCut reports whether pc was closed by cut or close while an offer was being answered: the
// server renegotiates with everyone still in the room as others leave, also during teardown.
func (p *cpeer) wasCut(pc *webrtc.PeerConnection) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pc != pc
}

// cut drops the connection without a goodbye: the WebSocket's TCP connection and the media go.
func (p *cpeer) cut() {
	p.mu.Lock()
	ws, pc := p.ws, p.pc
	p.ws, p.pc = nil, nil
	p.mu.Unlock()
	if ws != nil {
		_ = ws.Close() // no close frame: as if the network went away
	}
	if pc != nil {
		_ = pc.Close()
	}
}

func (p *cpeer) close() {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	p.done = true
	p.mu.Unlock()
	close(p.stop)
	p.cut()
	p.wg.Wait()
}

func (p *cpeer) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

// waitMsg waits for a message of type typ after since for which match (if any) holds.
func (p *cpeer) waitMsg(since int, typ string, match func(crx) bool) crx {
	p.t.Helper()
	var got crx
	waitFor(p.t, p.name+" receiving "+typ, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, m := range p.msgs[min(since, len(p.msgs)):] {
			if m.Type == typ && (match == nil || match(m)) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// waitError waits for the error with this reason in answer to a council message.
func (p *cpeer) waitError(since int, reason string) crx {
	p.t.Helper()
	return p.waitMsg(since, "error", func(m crx) bool { return m.Reason == reason })
}

// waitState waits until the last council_state p received satisfies cond, and returns it.
func (p *cpeer) waitState(what string, cond func(councilStateView) bool) councilStateView {
	p.t.Helper()
	var st councilStateView
	waitFor(p.t, p.name+" seeing "+what, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.state == nil || !cond(*p.state) {
			return false
		}
		st = *p.state
		return true
	})
	return st
}

// memberState is member id's line of a council state.
func memberState(st councilStateView, id string) council.MemberState {
	for _, m := range st.Members {
		if m.ID == id {
			return m
		}
	}
	return council.MemberState{}
}
