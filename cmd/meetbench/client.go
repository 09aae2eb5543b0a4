package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// protocolVersion is the signalling version of docs/signalling.md this client speaks.
const protocolVersion = 1

// errFull is the server refusing a place (POST /join) or entry (WebSocket join) because the
// meeting holds as many people as it admits.
var errFull = errors.New("the meeting is full")

// client is one participant: a signed-in user who joins through POST /meetings/{id}/join and the
// signalling WebSocket, answers the server's offers (the polite side), and either publishes
// synthetic media or only receives. Its goroutines (WebSocket reader, media sender, RTCP and
// track readers) all end in close.
type client struct {
	r       *run
	idx     int
	acct    *account
	publish bool
	direct  bool // half of the baseline pair, connected to its twin without the server

	wmu sync.Mutex // guards ws writes
	ws  *websocket.Conn

	mu      sync.Mutex
	pc      *webrtc.PeerConnection
	sock    *stampConn
	closing bool
	err     error // first failure, reported by the scenario

	joined   chan struct{}
	joinOnce sync.Once
	gone     chan struct{} // closed when the WebSocket reader ends
	stop     chan struct{}
	wg       sync.WaitGroup
	seen     []atomic.Bool // [publisher*2+kind]: some packet of this flow arrived
	sentWin  [2]atomic.Int64
	levelID  atomic.Uint32
	keyframe atomic.Bool
	lost     atomic.Bool  // the server closed the WebSocket
	latSum   atomic.Int64 // latency of the packets received in the window, summed
	latN     atomic.Int64
}

func newClient(r *run, idx int, publish bool) *client {
	return &client{r: r, idx: idx, acct: r.b.accounts[idx], publish: publish,
		joined: make(chan struct{}), gone: make(chan struct{}), stop: make(chan struct{}),
		seen: make([]atomic.Bool, 2*r.sc.publishers)}
}

// directPair connects a publisher straight to a receiver, both in this process with the same
// WebRTC stack as the participants but without the server: the latency it sees during the window
// is what the clients and the shared cores alone add.
func directPair(r *run) (send, recv *client, err error) {
	send = &client{r: r, idx: 0xffff, direct: true, publish: true, stop: make(chan struct{})}
	recv = &client{r: r, idx: 0xfffe, direct: true, stop: make(chan struct{}), seen: make([]atomic.Bool, 1)}
	for _, c := range []*client{send, recv} {
		api, sock, err := newAPI(!r.b.o.verbose, r.b.start.UnixNano())
		if err != nil {
			return send, recv, err
		}
		c.sock = sock
		if c.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
			return send, recv, err
		}
	}
	recv.pc.OnTrack(recv.onTrack)
	if _, err := send.addTracks(send.pc); err != nil {
		return send, recv, err
	}
	// Vanilla ICE: exchange complete descriptions once gathering is over.
	complete := func(pc *webrtc.PeerConnection, d webrtc.SessionDescription) (webrtc.SessionDescription, error) {
		done := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(d); err != nil {
			return d, err
		}
		<-done
		return *pc.LocalDescription(), nil
	}
	offer, err := send.pc.CreateOffer(nil)
	if err == nil {
		offer, err = complete(send.pc, offer)
	}
	if err == nil {
		err = recv.pc.SetRemoteDescription(offer)
	}
	if err != nil {
		return send, recv, fmt.Errorf("baseline offer: %w", err)
	}
	answer, err := recv.pc.CreateAnswer(nil)
	if err == nil {
		answer, err = complete(recv.pc, answer)
	}
	if err == nil {
		err = send.pc.SetRemoteDescription(answer)
	}
	if err != nil {
		return send, recv, fmt.Errorf("baseline answer: %w", err)
	}
	return send, recv, nil
}

// fail records the first failure of the client.
func (c *client) fail(format string, args ...any) {
	c.setErr(fmt.Errorf("participant %d: "+format, append([]any{c.idx}, args...)...))
}

func (c *client) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !c.closing {
		c.err = err
	}
}

func (c *client) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// join asks for a place, opens the WebSocket, sends join and waits for "joined".
func (c *client) join(ctx context.Context) error {
	b := c.r.b
	body := bytes.NewReader([]byte(`{}`))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/meetings/"+c.r.meeting+"/join", body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.acct.http.Do(req)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	if res.StatusCode == http.StatusConflict {
		return errFull // the only conflict POST /join answers
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("join: status %d: %s", res.StatusCode, bytes.TrimSpace(raw))
	}
	var jr struct {
		Token string `json:"token"`
		Lobby bool   `json:"lobby"`
		WS    string `json:"ws"`
	}
	if err := json.Unmarshal(raw, &jr); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	if jr.Lobby {
		return errors.New("join: put in the lobby, but signed-in users should enter directly")
	}
	h := http.Header{}
	h.Set("Origin", b.base)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Jar: c.acct.http.Jar}
	ws, _, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(b.base, "http")+jr.WS, h)
	if err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	c.ws = ws
	c.wg.Add(1)
	go c.readLoop()
	if err := c.send(map[string]any{"type": "join", "token": jr.Token, "audio": false, "video": false}); err != nil {
		return err
	}
	select {
	case <-c.joined:
		return c.failure()
	case <-c.gone:
		return c.failure()
	case <-ctx.Done():
		if err := c.failure(); err != nil {
			return err
		}
		return fmt.Errorf("no joined message: %w", ctx.Err())
	}
}

func (c *client) send(msg map[string]any) error {
	msg["v"] = protocolVersion
	raw, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, raw)
}

// message is a server message, decoded loosely.
type message struct {
	Type      string `json:"type"`
	SDP       string `json:"sdp"`
	Candidate *struct {
		Candidate     string  `json:"candidate"`
		SDPMid        *string `json:"sdpMid"`
		SDPMLineIndex *uint16 `json:"sdpMLineIndex"`
	} `json:"candidate"`
	Code    string `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Ref     string `json:"ref"`
}

// readLoop handles the server's messages in order until the WebSocket closes.
func (c *client) readLoop() {
	defer c.wg.Done()
	defer close(c.gone)
	for {
		_, raw, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			closing := c.closing
			c.mu.Unlock()
			if !closing {
				c.lost.Store(true)
				c.fail("signalling closed: %v", err)
			}
			return
		}
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			c.fail("bad JSON from the server: %v", err)
			continue
		}
		c.handle(m)
	}
}

func (c *client) handle(m message) {
	switch m.Type {
	case "joined":
		if err := c.startMedia(); err != nil {
			c.fail("media: %v", err)
		}
		c.joinOnce.Do(func() { close(c.joined) })
	case "offer":
		c.answer(m.SDP)
	case "answer":
		if pc := c.peer(); pc != nil {
			if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
				c.fail("set answer: %v", err)
			}
		}
	case "candidate":
		if pc := c.peer(); pc != nil && m.Candidate != nil && m.Candidate.Candidate != "" {
			_ = pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate,
				SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex})
		}
	case "lobby", "denied", "removed", "ended", "replaced", "reconnect":
		c.fail("unexpected %q from the server", m.Type)
	case "error":
		if m.Reason == "full" {
			c.setErr(errFull)
			return
		}
		c.fail("server error %s/%s on %q: %s", m.Code, m.Reason, m.Ref, m.Message)
	}
}

func (c *client) peer() *webrtc.PeerConnection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pc
}

func (c *client) answer(offer string) {
	pc := c.peer()
	if pc == nil {
		return
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		c.fail("set offer: %v", err)
		return
	}
	ans, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(ans)
	}
	if err != nil {
		c.fail("answer: %v", err)
		return
	}
	if err := c.send(map[string]any{"type": "answer", "sdp": ans.SDP}); err != nil {
		c.fail("send answer: %v", err)
	}
}

// newAPI builds this client's WebRTC stack: Opus and VP8 (no RTX), the feedback a browser
// negotiates except NACK (so that a lost packet stays lost and is counted), RTCP reports,
// transport-wide congestion control feedback, the audio level and mid header extensions, and its
// own UDP socket on 127.0.0.1 with a 1 MiB receive buffer, so media never leaves loopback, which
// notes when each packet arrives (stampConn; offset is the wall clock at the tool's clock zero).
func newAPI(quiet bool, offset int64) (*webrtc.API, *stampConn, error) {
	me := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}, {Type: "nack", Parameter: "pli"}}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB}, PayloadType: 96},
		webrtc.RTPCodecTypeVideo); err != nil {
		return nil, nil, err
	}
	for _, e := range []struct {
		uri  string
		kind webrtc.RTPCodecType
	}{
		{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
	} {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, e.kind); err != nil {
			return nil, nil, err
		}
	}
	logs := &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled}
	if !quiet {
		logs = logging.NewDefaultLoggerFactory()
	}
	reg := &interceptor.Registry{}
	err := webrtc.ConfigureRTCPReportsWithOptions(reg,
		[]report.ReceiverOption{report.WithReceiverLoggerFactory(logs)}, report.WithSenderLoggerFactory(logs))
	if err != nil {
		return nil, nil, err
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, reg); err != nil {
		return nil, nil, err
	}
	if err := webrtc.ConfigureTWCCSenderWithOptions(me, reg, twcc.WithLoggerFactory(logs)); err != nil {
		return nil, nil, err
	}
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, fmt.Errorf("media socket: %w", err)
	}
	_ = sock.SetReadBuffer(1 << 20)
	_ = sock.SetWriteBuffer(1 << 20)
	sc, err := newStampConn(sock, offset)
	if err != nil {
		sock.Close()
		return nil, nil, fmt.Errorf("media socket: %w", err)
	}
	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetICEUDPMux(webrtc.NewICEUDPMux(logs.NewLogger("udpmux"), sc))
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return api, sc, nil
}

// startMedia makes the PeerConnection, adds the published tracks (or one receive-only audio
// transceiver) and sends the tracks message and the first offer.
func (c *client) startMedia() error {
	api, sock, err := newAPI(!c.r.b.o.verbose, c.r.b.start.UnixNano())
	if err != nil {
		return err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		sock.Close()
		return err
	}
	c.mu.Lock()
	c.pc, c.sock = pc, sock
	c.mu.Unlock()
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		j := cand.ToJSON()
		_ = c.send(map[string]any{"type": "candidate", "candidate": map[string]any{
			"candidate": j.Candidate, "sdpMid": j.SDPMid, "sdpMLineIndex": j.SDPMLineIndex}})
	})
	pc.OnTrack(c.onTrack)
	sources := map[string]string{}
	if c.publish {
		ids, err := c.addTracks(pc)
		if err != nil {
			return err
		}
		sources[ids[0]], sources[ids[1]] = "microphone", "camera"
	} else if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return err
	}
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	if err := c.send(map[string]any{"type": "tracks", "sources": sources}); err != nil {
		return err
	}
	return c.send(map[string]any{"type": "offer", "sdp": offer.SDP})
}

// onTrack reads one received track until the connection closes, accounting every packet.
func (c *client) onTrack(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.wg.Add(2)
	sock := c.sock
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := rcv.Read(buf); err != nil {
				return
			}
		}
	}()
	defer c.wg.Done()
	buf := make([]byte, 1500)
	r := c.r
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		now := r.b.now()
		sent, pub, kind, ok := readTrailer(buf[:n])
		if c.direct {
			if ok {
				c.seen[0].Store(true)
				if r.win.in(sent) {
					r.direct.add(sent, now-sent, r.win)
					r.atSocket(&r.directSock, sock, buf[:n], sent)
				}
			}
			continue
		}
		if !ok || pub >= r.sc.publishers {
			continue
		}
		if f := &c.seen[2*pub+kind]; !f.Load() {
			f.Store(true)
		}
		if r.win.in(sent) {
			r.recvPackets.Add(1)
			r.recvBytes.Add(int64(n))
			r.hist.add(sent, now-sent, r.win)
			r.atSocket(&r.sock, sock, buf[:n], sent)
			c.latSum.Add(now - sent)
			c.latN.Add(1)
		}
	}
}

// addTracks publishes one audio and one video track and starts sending on them.
func (c *client) addTracks(pc *webrtc.PeerConnection) ([2]string, error) {
	ids := [2]string{fmt.Sprintf("a%d", c.idx), fmt.Sprintf("v%d", c.idx)}
	stream := fmt.Sprintf("s%d", c.idx)
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, ids[0], stream)
	if err != nil {
		return ids, err
	}
	video, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
		ClockRate: 90000}, ids[1], stream)
	if err != nil {
		return ids, err
	}
	as, err := pc.AddTrack(audio)
	if err != nil {
		return ids, err
	}
	vs, err := pc.AddTrack(video)
	if err != nil {
		return ids, err
	}
	c.wg.Add(3)
	go c.readSenderRTCP(as)
	go c.readSenderRTCP(vs)
	go c.sendMedia(as, audio, video)
	return ids, nil
}

// readSenderRTCP drains the feedback of one sender; a PLI or FIR asks for a key frame.
func (c *client) readSenderRTCP(s *webrtc.RTPSender) {
	defer c.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.keyframe.Store(true)
			}
		}
	}
}

// sendMedia sends 50 audio packets a second and -fps video frames a second at the configured
// bitrate until the client closes. A key frame goes out every keyInterval and after a PLI.
func (c *client) sendMedia(as *webrtc.RTPSender, audio, video *webrtc.TrackLocalStaticRTP) {
	defer c.wg.Done()
	o := c.r.b.o
	const keyInterval = 5 * time.Second
	at := time.NewTicker(20 * time.Millisecond)
	vt := time.NewTicker(time.Second / time.Duration(o.fps))
	defer at.Stop()
	defer vt.Stop()
	frameBytes := o.videoKbps * 1000 / 8 / o.fps
	keyEvery := max(1, int(keyInterval/(time.Second/time.Duration(o.fps))))
	// One loud speaker keeps the active speaker steady, as in a council session.
	level := byte(0x80 | 90)
	if c.idx == 0 {
		level = 0x80 | 25
	}
	apayload := make([]byte, o.audioBytes)
	apayload[0] = 0xfc // Opus TOC: CELT fullband 20 ms, one frame
	var store [][]byte
	var apkt, vpkt rtp.Packet
	apkt.Version, vpkt.Version = 2, 2
	var aseq, vseq, pic uint16
	var ats, vts, an, vn uint32
	frame := 0
	for {
		select {
		case <-c.stop:
			return
		case <-at.C:
			if id := c.audioLevelID(as); id != 0 {
				_ = apkt.Header.SetExtension(id, []byte{level})
			}
			aseq++
			ats += 960
			apkt.SequenceNumber, apkt.Timestamp, apkt.Payload = aseq, ats, apayload
			sent := c.r.b.now()
			putTrailer(apayload, sent, c.idx, kindAudio, an)
			an++
			if audio.WriteRTP(&apkt) == nil && c.r.win.in(sent) {
				c.sentWin[kindAudio].Add(1)
			}
		case <-vt.C:
			key := frame%keyEvery == 0 || c.keyframe.Swap(false)
			frame++
			pic = (pic + 1) & 0x7fff
			vts += uint32(90000 / o.fps)
			bufs := vp8Frame(&store, frameBytes, pic, key)
			for i, p := range bufs {
				vseq++
				vpkt.SequenceNumber, vpkt.Timestamp, vpkt.Marker, vpkt.Payload = vseq, vts, i == len(bufs)-1, p
				sent := c.r.b.now()
				putTrailer(p, sent, c.idx, kindVideo, vn)
				vn++
				if video.WriteRTP(&vpkt) == nil && c.r.win.in(sent) {
					c.sentWin[kindVideo].Add(1)
				}
			}
		}
	}
}

// audioLevelID is the negotiated id of the audio level extension (0 until known).
func (c *client) audioLevelID(s *webrtc.RTPSender) uint8 {
	if id := c.levelID.Load(); id != 0 {
		return uint8(id)
	}
	if c.peer().ConnectionState() != webrtc.PeerConnectionStateConnected {
		return 0
	}
	for _, e := range s.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			c.levelID.Store(uint32(e.ID))
			return uint8(e.ID)
		}
	}
	return 0
}

// receives reports whether audio and video of publisher pub arrive.
func (c *client) receives(pub int) bool {
	return c.seen[2*pub+kindAudio].Load() && c.seen[2*pub+kindVideo].Load()
}

// close says goodbye and stops everything the client started.
func (c *client) close() {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	pc, sock := c.pc, c.sock
	c.mu.Unlock()
	close(c.stop)
	if c.ws != nil {
		_ = c.send(map[string]any{"type": "leave"})
		_ = c.ws.Close()
	}
	if pc != nil {
		_ = pc.Close()
	}
	if sock != nil {
		_ = sock.Close()
	}
	c.wg.Wait()
}

// port is the local port of the client's media socket (0 before media started).
func (c *client) port() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock == nil {
		return 0
	}
	return c.sock.LocalAddr().(*net.UDPAddr).Port
}
