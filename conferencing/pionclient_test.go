package conferencing

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// rx is any server message, decoded loosely for the tests.
type rx struct {
	Type         string            `json:"type"`
	SDP          string            `json:"sdp"`
	Candidate    *Candidate        `json:"candidate"`
	Self         participantView   `json:"self"`
	Participants []participantView `json:"participants"`
	Lobby        []lobbyView       `json:"lobby"`
	Chat         []chatView        `json:"chat"`
	Waiting      []lobbyView       `json:"waiting"`
	Room         roomView          `json:"room"`
	ICEServers   []ICEServer       `json:"ice_servers"`
	Token        string            `json:"token"`
	Publisher    string            `json:"publisher"`
	Track        string            `json:"track"`
	Mid          string            `json:"mid"`
	Kind         string            `json:"kind"`
	Source       string            `json:"source"`
	Participant  string            `json:"participant"`
	By           string            `json:"by"`
	From         string            `json:"from"`
	Name         string            `json:"name"`
	Text         string            `json:"text"`
	Code         string            `json:"code"`
	Reason       string            `json:"reason"`
	Message      string            `json:"message"`
	Ref          string            `json:"ref"`
}

// peer is a Pion client that stands in for a browser: it joins through the HTTP endpoint and the
// signalling WebSocket, answers the server's offers (the polite side), publishes synthetic Opus
// and VP8, counts what it receives from whom, and, when asked, reconnects by itself like the
// browser client does.
type peer struct {
	t    *testing.T
	e    *env
	name string
	m    *Meeting
	user int64
	id   string // participant id

	mu        sync.Mutex
	token     string
	ws        *websocket.Conn
	pc        *webrtc.PeerConnection
	msgs      []rx
	recv      map[string]*atomic.Int64 // "publisher/kind" -> packets
	streamOf  map[string]string        // mid -> stream id of the received track
	closed    bool
	reconnect bool // rejoin by itself when the connection drops
	joins     int  // "joined" messages received
	publish   bool
	relayOnly bool // ICE transport policy relay: only TURN candidates
	stop      chan struct{}
	wg        sync.WaitGroup
}

func (e *env) newPeer(name string, m *Meeting, user int64) *peer {
	p := &peer{t: e.t, e: e, name: name, m: m, user: user, recv: map[string]*atomic.Int64{},
		streamOf: map[string]string{}, publish: true, stop: make(chan struct{})}
	e.t.Cleanup(p.close)
	return p
}

// join gets a token over HTTP and connects; it returns after the first server message.
func (p *peer) join(req JoinRequest) {
	p.t.Helper()
	jr, status, body := p.e.joinHTTP(p.m, p.user, req)
	if jr == nil {
		p.t.Fatalf("%s: join refused (%d): %s", p.name, status, body)
	}
	p.id, p.token = jr.Participant, jr.Token
	p.connect()
}

// connect opens the WebSocket and sends join with the current token.
func (p *peer) connect() {
	p.t.Helper()
	if err := p.dial(); err != nil {
		p.t.Fatalf("%s: dial: %v", p.name, err)
	}
}

func (p *peer) dial() error { return p.open(true) }

// open connects the WebSocket and, with join, sends the join message.
func (p *peer) open(join bool) error {
	h := http.Header{}
	h.Set("Origin", p.e.base)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.e.addr+"/meetings/"+p.m.PublicID+"/ws", h)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ws = ws
	token := p.token
	p.mu.Unlock()
	p.wg.Add(1)
	go p.readLoop(ws)
	if !join {
		return nil
	}
	return p.send(map[string]any{"type": "join", "token": token})
}

func (p *peer) send(msg map[string]any) error {
	msg["v"] = ProtocolVersion
	b, _ := json.Marshal(msg)
	return p.sendRaw(b)
}

func (p *peer) sendRaw(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ws == nil {
		return errClosedByTest
	}
	_ = p.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return p.ws.WriteMessage(websocket.TextMessage, b)
}

func (p *peer) readLoop(ws *websocket.Conn) {
	defer p.wg.Done()
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			p.lost(ws)
			return
		}
		var m rx
		if err := json.Unmarshal(b, &m); err != nil {
			p.t.Errorf("%s: server sent bad JSON %q", p.name, b)
			continue
		}
		p.mu.Lock()
		p.msgs = append(p.msgs, m)
		if m.Token != "" {
			p.token = m.Token
		}
		p.mu.Unlock()
		p.handle(m)
	}
}

// lost is the connection ending; a reconnecting peer joins again with its latest token.
func (p *peer) lost(ws *websocket.Conn) {
	p.mu.Lock()
	again := p.reconnect && !p.closed && p.ws == ws
	if p.ws == ws {
		p.ws = nil
	}
	pc := p.pc
	p.pc = nil
	p.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
	if !again {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
			select {
			case <-p.stop:
				return
			case <-time.After(delay):
			}
			if p.dial() == nil {
				return
			}
		}
	}()
}

func (p *peer) handle(m rx) {
	switch m.Type {
	case "joined":
		p.mu.Lock()
		p.joins++
		p.mu.Unlock()
		p.startMedia(m.ICEServers)
	case "offer":
		p.answer(m.SDP)
	case "answer":
		if pc := p.peerConn(); pc != nil {
			if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
				p.fail("set answer: %v", err)
			}
		}
	case "candidate":
		if pc := p.peerConn(); pc != nil && m.Candidate != nil {
			_ = pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate,
				SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex})
		}
	}
}

func (p *peer) peerConn() *webrtc.PeerConnection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pc
}

func (p *peer) fail(format string, args ...any) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if !closed {
		p.t.Errorf(p.name+": "+format, args...)
	}
}

// startMedia makes a new PeerConnection (loopback only), publishes, and sends the first offer.
func (p *peer) startMedia(servers []ICEServer) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		p.fail("codecs: %v", err)
		return
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		p.fail("interceptors: %v", err)
		return
	}
	se := webrtc.SettingEngine{}
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	var ice []webrtc.ICEServer
	for _, s := range servers {
		ice = append(ice, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	cfg := webrtc.Configuration{ICEServers: ice}
	if p.relayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		p.fail("peer connection: %v", err)
		return
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			j := c.ToJSON()
			_ = p.send(map[string]any{"type": "candidate", "candidate": map[string]any{
				"candidate": j.Candidate, "sdpMid": j.SDPMid, "sdpMLineIndex": j.SDPMLineIndex}})
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
		for _, t := range pc.GetTransceivers() {
			if t.Receiver() == rcv {
				p.mu.Lock()
				p.streamOf[t.Mid()] = tr.StreamID()
				p.mu.Unlock()
			}
		}
		n := p.counter(tr.StreamID() + "/" + tr.Kind().String())
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
			n.Add(1)
		}
	})
	p.mu.Lock()
	old := p.pc
	p.pc = pc
	p.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	if p.publish {
		p.publishTracks(pc)
	} else if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		p.fail("transceiver: %v", err)
		return
	}
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.fail("offer: %v", err)
		return
	}
	_ = p.send(map[string]any{"type": "tracks", "sources": map[string]string{
		p.name + "-audio": SourceMicrophone, p.name + "-video": SourceCamera}})
	_ = p.send(map[string]any{"type": "offer", "sdp": offer.SDP})
}

func (p *peer) counter(key string) *atomic.Int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.recv[key] == nil {
		p.recv[key] = &atomic.Int64{}
	}
	return p.recv[key]
}

// received is the number of packets of kind ("audio", "video") received from participant id.
func (p *peer) received(id, kind string) int64 { return p.counter(id + "/" + kind).Load() }

func (p *peer) answer(sdp string) {
	pc := p.peerConn()
	if pc == nil {
		return
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		p.fail("set offer: %v", err)
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(answer)
	}
	if err != nil {
		p.fail("answer: %v", err)
		return
	}
	_ = p.send(map[string]any{"type": "answer", "sdp": answer.SDP})
}

// publishTracks adds Opus and VP8 tracks and sends synthetic media on them until the peer closes
// or the connection is replaced: 50 audio packets and 20 video frames a second, a key frame every
// 10 frames and after each PLI.
func (p *peer) publishTracks(pc *webrtc.PeerConnection) {
	audio, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, p.name+"-audio", p.name)
	video, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
		ClockRate: 90000}, p.name+"-video", p.name)
	as, err := pc.AddTrack(audio)
	if err != nil {
		p.fail("add audio: %v", err)
		return
	}
	vs, err := pc.AddTrack(video)
	if err != nil {
		p.fail("add video: %v", err)
		return
	}
	var keyframe atomic.Bool
	p.wg.Add(3)
	go func() {
		defer p.wg.Done()
		for {
			pkts, _, err := vs.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				if _, ok := pk.(*rtcp.PictureLossIndication); ok {
					keyframe.Store(true)
				}
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		for {
			if _, _, err := as.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		at := time.NewTicker(20 * time.Millisecond)
		vt := time.NewTicker(50 * time.Millisecond)
		defer at.Stop()
		defer vt.Stop()
		var aseq, vseq, pic uint16
		var ats, vts uint32
		for frame := 0; ; {
			select {
			case <-p.stop:
				return
			case <-at.C:
				if pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
					return
				}
				aseq++
				ats += 960
				_ = audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aseq, Timestamp: ats},
					Payload: []byte{0xfc, 0xff, 0xfe}})
			case <-vt.C:
				key := frame%10 == 0 || keyframe.Swap(false)
				frame++
				vseq++
				pic = (pic + 1) & 0x7fff
				vts += 4500
				payload := make([]byte, 200)
				payload[0], payload[1] = 0x90, 0x80 // X, S, partition 0; I: picture id follows
				payload[2], payload[3] = 0x80|byte(pic>>8), byte(pic)
				payload[4] = 0x01 // P=1: inter frame
				if key {
					payload[4] = 0x00
				}
				_ = video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: vseq,
					Timestamp: vts}, Payload: payload})
			}
		}
	}()
}

// msgs returns the messages received so far.
func (p *peer) messages() []rx {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

// mark is the number of messages received so far, for waitMsg(since).
func (p *peer) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

// waitMsg waits for a message of type typ, received after since, for which match (if any) holds.
func (p *peer) waitMsg(since int, typ string, match func(rx) bool) rx {
	p.t.Helper()
	var got rx
	waitFor(p.t, p.name+" receiving "+typ, func() bool {
		ms := p.messages()
		for _, m := range ms[min(since, len(ms)):] {
			if m.Type == typ && (match == nil || match(m)) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// waitError waits for an error message with this reason.
func (p *peer) waitError(since int, reason string) rx {
	p.t.Helper()
	return p.waitMsg(since, "error", func(m rx) bool { return m.Reason == reason })
}

// waitClosed waits until the server closed the connection.
func (p *peer) waitClosed() {
	p.t.Helper()
	waitFor(p.t, p.name+" disconnected", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.ws == nil
	})
}

// leave says goodbye and closes.
func (p *peer) leave() {
	_ = p.send(map[string]any{"type": "leave"})
	p.close()
}

func (p *peer) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	ws, pc := p.ws, p.pc
	p.mu.Unlock()
	close(p.stop)
	if ws != nil {
		_ = ws.Close()
	}
	if pc != nil {
		_ = pc.Close()
	}
	p.wg.Wait()
}

// receivesFrom waits until p got at least n more audio and video packets from each of others.
func (p *peer) receivesFrom(n int64, others ...*peer) {
	p.t.Helper()
	everybodyReceivesFrom(p.t, n, map[*peer][]*peer{p: others})
}

// everybodyReceives waits until each peer receives from every other.
func everybodyReceives(t *testing.T, n int64, peers ...*peer) {
	t.Helper()
	flows := map[*peer][]*peer{}
	for _, p := range peers {
		for _, o := range peers {
			if o != p {
				flows[p] = append(flows[p], o)
			}
		}
	}
	everybodyReceivesFrom(t, n, flows)
}

// everybodyReceivesFrom counts from now: every receiver gets n more packets of each kind from
// each of its senders.
func everybodyReceivesFrom(t *testing.T, n int64, flows map[*peer][]*peer) {
	t.Helper()
	type flow struct {
		p, o *peer
		kind string
		base int64
	}
	var all []flow
	for p, others := range flows {
		for _, o := range others {
			for _, kind := range []string{"audio", "video"} {
				all = append(all, flow{p, o, kind, p.received(o.id, kind)})
			}
		}
	}
	for _, f := range all {
		waitFor(t, f.p.name+" receiving "+f.kind+" from "+f.o.name, func() bool {
			return f.p.received(f.o.id, f.kind) >= f.base+n
		})
	}
}

// lastList is the last participant list p received.
func (p *peer) lastList() []participantView {
	ms := p.messages()
	for i := len(ms) - 1; i >= 0; i-- {
		switch ms[i].Type {
		case "participants", "joined":
			return ms[i].Participants
		}
	}
	return nil
}

func hasParticipant(list []participantView, id string) bool {
	return slices.ContainsFunc(list, func(v participantView) bool { return v.ID == id })
}

func viewOf(list []participantView, id string) (participantView, bool) {
	i := slices.IndexFunc(list, func(v participantView) bool { return v.ID == id })
	if i < 0 {
		return participantView{}, false
	}
	return list[i], true
}
