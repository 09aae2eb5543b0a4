package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// testLog writes to the test log at Warn and above (Debug with SFU_DEBUG=1), and goes quiet once
// the test is over, since Pion goroutines may still log while closing.
func testLog(t *testing.T) *slog.Logger {
	t.Helper()
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	level := slog.LevelWarn
	if os.Getenv("SFU_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(b))
	}
	return len(b), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

func newTestSFU(t *testing.T, edit func(*Config)) *SFU {
	t.Helper()
	cfg := Config{Interfaces: []string{"lo"}, IncludeLoopback: true, IPv4Only: true}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg, testLog(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// waitFor polls cond until it holds; the deadline only keeps a broken test from hanging.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clientOpts shapes a test client's PeerConnection.
type clientOpts struct {
	network    webrtc.NetworkType // default UDP4
	iceServers []webrtc.ICEServer
	relayOnly  bool
}

// recv is what a client got on one remote track.
type recv struct {
	publisher string
	kind      webrtc.RTPCodecType
	ssrc      uint32
	mu        sync.Mutex
	packets   int
	seqs      []uint16
	tss       []uint32
	payloads  [][]byte // first bytes of each payload (video only)
}

func (r *recv) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packets
}

// client is a Pion peer standing in for a browser: the polite side of perfect negotiation, a
// synthetic publisher of Opus and VP8 (optionally simulcast), and a counter of what it receives.
type client struct {
	t    *testing.T
	name string
	pc   *webrtc.PeerConnection
	p    *Participant
	ctx  context.Context

	mu       sync.Mutex
	recvs    []*recv
	added    map[string]TrackInfo // by mid
	removed  []TrackInfo
	speaker  string
	stats    Stats
	state    webrtc.PeerConnectionState
	plis     atomic.Int64
	keyframe atomic.Bool
	stop     chan struct{}
	wg       sync.WaitGroup
	level    atomic.Int32                   // audio level (0 loud … 127 silent) to send
	held     chan webrtc.SessionDescription // if set, SFU offers go here instead of being answered
}

func newClient(t *testing.T, name string, o clientOpts) *client {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetIncludeLoopbackCandidate(true)
	nt := o.network
	if nt == 0 {
		nt = webrtc.NetworkTypeUDP4
	}
	se.SetNetworkTypes([]webrtc.NetworkType{nt})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	cfg := webrtc.Configuration{ICEServers: o.iceServers}
	if o.relayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, name: name, pc: pc, ctx: context.Background(), added: map[string]TrackInfo{},
		stop: make(chan struct{})}
	c.level.Store(127)
	t.Cleanup(c.close)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		r := &recv{publisher: tr.StreamID(), kind: tr.Kind(), ssrc: uint32(tr.SSRC())}
		c.mu.Lock()
		c.recvs = append(c.recvs, r)
		c.mu.Unlock()
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) != nil {
				continue
			}
			r.mu.Lock()
			r.packets++
			r.seqs = append(r.seqs, pkt.SequenceNumber)
			r.tss = append(r.tss, pkt.Timestamp)
			if r.kind == webrtc.RTPCodecTypeVideo {
				r.payloads = append(r.payloads, slices.Clone(pkt.Payload[:min(len(pkt.Payload), 8)]))
			}
			r.mu.Unlock()
		}
	})
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil || c.p == nil {
			return
		}
		_ = c.p.AddICECandidate(c.ctx, cand.ToJSON())
	})
	return c
}

func (c *client) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	_ = c.pc.Close()
	c.wg.Wait()
}

// Events, as the signalling layer would relay them.

func (c *client) OnLocalDescription(d webrtc.SessionDescription) {
	select {
	case <-c.stop:
		return // closed by the test
	default:
	}
	if d.Type == webrtc.SDPTypeOffer && c.held != nil {
		c.held <- d
		return
	}
	c.answer(d)
}

// answer applies a description from the SFU and answers it if it is an offer.
func (c *client) answer(d webrtc.SessionDescription) {
	if err := c.pc.SetRemoteDescription(d); err != nil {
		c.fail("set remote %s: %v", d.Type, err)
		return
	}
	if d.Type != webrtc.SDPTypeOffer {
		return
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		c.fail("create answer: %v", err)
		return
	}
	if err := c.pc.SetLocalDescription(answer); err != nil {
		c.fail("set local answer: %v", err)
		return
	}
	if err := c.p.HandleAnswer(c.ctx, answer); err != nil {
		c.fail("HandleAnswer: %v", err)
	}
}

// fail reports an error unless the client or its participant is already closing.
func (c *client) fail(format string, args ...any) {
	select {
	case <-c.stop:
		return
	case <-c.p.Done():
		return
	default:
	}
	if c.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
		return
	}
	c.t.Errorf(c.name+": "+format, args...)
}

func (c *client) OnICECandidate(cand webrtc.ICECandidateInit) { _ = c.pc.AddICECandidate(cand) }

func (c *client) OnTrackAdded(ti TrackInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.added[ti.Mid] = ti
}

func (c *client) OnTrackRemoved(ti TrackInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removed = append(c.removed, ti)
}

func (c *client) OnSpeaker(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.speaker = id
}

func (c *client) OnStats(s Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats = s
}

func (c *client) OnState(s webrtc.PeerConnectionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = s
}

// join enters the room and makes the first offer.
func (c *client) join(r *Room, opts JoinOptions) {
	c.t.Helper()
	p, err := r.Join(c.name, c, opts)
	if err != nil {
		c.t.Fatalf("%s: join: %v", c.name, err)
	}
	c.p = p
	c.offer()
}

func (c *client) offer() {
	c.t.Helper()
	if len(c.pc.GetTransceivers()) == 0 {
		// Nothing to publish: ask to receive so that the offer has a media section.
		if _, err := c.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
			webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			c.t.Fatal(err)
		}
	}
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.pc.SetLocalDescription(offer); err != nil {
		c.t.Fatal(err)
	}
	if err := c.p.HandleOffer(c.ctx, offer); err != nil {
		c.t.Fatalf("%s: HandleOffer: %v", c.name, err)
	}
}

// publisher holds the local tracks a client sends.
type publisher struct {
	audio  *webrtc.TrackLocalStaticRTP
	videos []*webrtc.TrackLocalStaticRTP // one per simulcast layer, low to high
	vs     *webrtc.RTPSender
	as     *webrtc.RTPSender
}

// addTracks adds an Opus track and a VP8 track; with rids, the video is simulcast.
func (c *client) addTracks(rids ...string) *publisher {
	c.t.Helper()
	pub := &publisher{}
	var err error
	pub.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, c.name+"-audio", c.name+"-stream")
	if err != nil {
		c.t.Fatal(err)
	}
	if pub.as, err = c.pc.AddTrack(pub.audio); err != nil {
		c.t.Fatal(err)
	}
	if len(rids) == 0 {
		rids = []string{""}
	}
	for _, rid := range rids {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(rid))
		}
		v, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
			ClockRate: 90000}, c.name+"-video", c.name+"-stream", opts...)
		if err != nil {
			c.t.Fatal(err)
		}
		pub.videos = append(pub.videos, v)
	}
	if pub.vs, err = c.pc.AddTrack(pub.videos[0]); err != nil {
		c.t.Fatal(err)
	}
	for _, v := range pub.videos[1:] {
		if err := pub.vs.AddEncoding(v); err != nil {
			c.t.Fatal(err)
		}
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			pkts, _, err := pub.vs.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if _, ok := p.(*rtcp.PictureLossIndication); ok {
					c.plis.Add(1)
					c.keyframe.Store(true)
				}
			}
		}
	}()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			if _, _, err := pub.as.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	return pub
}

// layerSize is the payload size of each simulcast layer, so that their bitrates differ:
// at 20 packets/s about 12, 28 and 68 kbit/s.
var layerSize = []int{60, 160, 410}

// send starts the media: 50 audio packets/s and 20 video frames/s (one packet each) per layer,
// a keyframe every 3 s or after a PLI. Video payloads carry the layer index in byte 4.
func (c *client) send(pub *publisher) {
	params := pub.vs.GetParameters()
	var midID, ridID, levelID uint8
	for _, e := range params.HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(e.ID)
		}
	}
	for _, e := range pub.as.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			levelID = uint8(e.ID)
		}
	}
	var mid string
	for _, tr := range c.pc.GetTransceivers() {
		if tr.Sender() == pub.vs {
			mid = tr.Mid()
		}
	}
	simulcast := len(pub.videos) > 1
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		audioTick := time.NewTicker(20 * time.Millisecond)
		videoTick := time.NewTicker(50 * time.Millisecond)
		defer audioTick.Stop()
		defer videoTick.Stop()
		var aseq uint16
		var ats uint32
		vseq := make([]uint16, len(pub.videos))
		var vts uint32
		var frame, pic uint16
		for {
			select {
			case <-c.stop:
				return
			case <-audioTick.C:
				aseq++
				ats += 960
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aseq, Timestamp: ats},
					Payload: []byte{0xfc, 0xff, 0xfe}}
				if levelID != 0 {
					_ = pkt.SetExtension(levelID, []byte{byte(c.level.Load())})
				}
				_ = pub.audio.WriteRTP(pkt)
			case <-videoTick.C:
				key := frame%60 == 0 || c.keyframe.Swap(false)
				frame++
				pic = (pic + 1) & 0x7fff
				vts += 4500
				for i, v := range pub.videos {
					vseq[i]++
					payload := make([]byte, layerSize[min(i, 2)])
					payload[0] = 0x90 // X, S, partition 0
					payload[1] = 0x80 // I: picture id present
					payload[2] = 0x80 | byte(pic>>8)
					payload[3] = byte(pic)
					payload[4] = 0x01 // VP8 header: P=1 inter frame
					if key {
						payload[4] = 0x00
					}
					payload[5] = byte(i)
					pkt := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: vseq[i] + uint16(i)*10000,
						Timestamp: vts + uint32(i)*77777}, Payload: payload}
					if simulcast {
						_ = pkt.SetExtension(midID, []byte(mid))
						_ = pkt.SetExtension(ridID, []byte(v.RID()))
					}
					_ = v.WriteRTP(pkt)
				}
			}
		}
	}()
}

// received returns what c got from publisher (by kind).
func (c *client) received(publisher string, kind webrtc.RTPCodecType) *recv {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *recv
	for _, r := range c.recvs {
		if r.publisher == publisher && r.kind == kind {
			best = r // the latest, after a rejoin
		}
	}
	return best
}

func (c *client) packetsFrom(publisher string, kind webrtc.RTPCodecType) int {
	if r := c.received(publisher, kind); r != nil {
		return r.count()
	}
	return 0
}

func (c *client) lastStats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *client) String() string { return fmt.Sprintf("client %s", c.name) }
