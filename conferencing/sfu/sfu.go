package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
)

// Bandwidth estimator bounds, per subscriber PeerConnection.
const (
	initialBitrate = 1_000_000
	minBitrate     = 100_000
	maxBitrate     = 20_000_000
)

// SFU is the media server: one webrtc.API (codecs, interceptors, one UDP port, ICE-TCP, NAT
// address), the rooms, and the embedded TURN server.
type SFU struct {
	cfg   Config
	log   *slog.Logger
	start time.Time
	api   *webrtc.API
	port  int

	udpMux ice.UDPMux
	tcpMux ice.TCPMux
	tcpLn  net.Listener
	turn   *turnServer

	// pcMu serialises PeerConnection creation so that the bandwidth estimator the cc interceptor
	// announces (synchronously, inside NewPeerConnection) is paired with the right connection.
	pcMu       sync.Mutex
	pendingBWE cc.BandwidthEstimator

	mu     sync.Mutex
	rooms  map[string]*Room
	closed bool
}

// New opens the media port(s) and the TURN server and returns a running SFU.
func New(cfg Config, logger *slog.Logger) (*SFU, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sfu config: %w", err)
	}
	s := &SFU{cfg: cfg, log: logger.With("part", "sfu"), start: time.Now(), rooms: map[string]*Room{}}
	logger = s.log
	if err := s.listen(); err != nil {
		return nil, err
	}
	api, err := s.newAPI()
	if err != nil {
		s.closeTransport()
		return nil, err
	}
	s.api = api
	if len(cfg.TURNSecret) > 0 {
		t, err := newTURNServer(cfg, s.port, logger)
		if err != nil {
			s.closeTransport()
			return nil, fmt.Errorf("start turn: %w", err)
		}
		s.turn = t
	}
	logger.Info("sfu started", "udp_port", s.port, "tcp", !cfg.DisableTCP, "public_ip", cfg.PublicIP,
		"turn", s.turn != nil)
	return s, nil
}

// now is the SFU's monotonic clock in nanoseconds, never 0.
func (s *SFU) now() int64 { return int64(time.Since(s.start)) + 1 }

// Port is the UDP (and ICE-TCP) port that carries the media.
func (s *SFU) Port() int { return s.port }

// listen opens the UDP mux on every media address and the ICE-TCP listener on the same port
// number. Port 0 picks a port free for both, retrying a few times.
func (s *SFU) listen() error {
	var lastErr error
	for range 20 {
		port := s.cfg.UDPPort
		if port == 0 {
			p, err := freeUDPPort()
			if err != nil {
				return err
			}
			port = p
		}
		err := s.listenOn(port)
		if err == nil {
			s.port = port
			return nil
		}
		lastErr = err
		if s.cfg.UDPPort != 0 {
			break
		}
	}
	return lastErr
}

func (s *SFU) listenOn(port int) error {
	networks := []ice.NetworkType{ice.NetworkTypeUDP4}
	if !s.cfg.IPv4Only {
		networks = append(networks, ice.NetworkTypeUDP6)
	}
	std, err := stdnet.NewNet()
	if err != nil {
		return fmt.Errorf("listen udp %d: %w", port, err)
	}
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNet(mediaNet{std}),
		ice.UDPMuxFromPortWithInterfaceFilter(s.cfg.keepInterface),
		ice.UDPMuxFromPortWithNetworks(networks...),
		ice.UDPMuxFromPortWithLogger(pionLogs{s.log}.NewLogger("udpmux")),
		ice.UDPMuxFromPortWithReadBufferSize(4 << 20),
		ice.UDPMuxFromPortWithWriteBufferSize(4 << 20),
	}
	if s.cfg.IncludeLoopback {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	udpMux, err := ice.NewMultiUDPMuxFromPort(port, opts...)
	if err != nil {
		return fmt.Errorf("listen udp %d: %w", port, err)
	}
	if len(udpMux.GetListenAddresses()) == 0 {
		_ = udpMux.Close()
		return fmt.Errorf("listen udp %d: no usable address on the configured interfaces", port)
	}
	if !s.cfg.DisableTCP {
		network := "tcp"
		if s.cfg.IPv4Only {
			network = "tcp4"
		}
		ln, err := net.Listen(network, net.JoinHostPort("", strconv.Itoa(port)))
		if err != nil {
			_ = udpMux.Close()
			return fmt.Errorf("listen tcp %d: %w", port, err)
		}
		s.tcpLn = ln
		s.tcpMux = webrtc.NewICETCPMux(pionLogs{s.log}.NewLogger("tcpmux"), ln, 64)
	}
	s.udpMux = udpMux
	return nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{})
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func (s *SFU) closeTransport() {
	if s.udpMux != nil {
		_ = s.udpMux.Close()
	}
	if s.tcpMux != nil {
		_ = s.tcpMux.Close()
	}
	if s.tcpLn != nil {
		_ = s.tcpLn.Close()
	}
}

// newAPI builds the one webrtc.API every PeerConnection comes from.
func (s *SFU) newAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	if err := s.registerInterceptors(me, reg); err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}

	se := webrtc.SettingEngine{LoggerFactory: pionLogs{s.log}}
	se.SetICEUDPMux(s.udpMux)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if !s.cfg.IPv4Only {
		types = append(types, webrtc.NetworkTypeUDP6)
	}
	if s.tcpMux != nil {
		se.SetICETCPMux(s.tcpMux)
		types = append(types, webrtc.NetworkTypeTCP4)
		if !s.cfg.IPv4Only {
			types = append(types, webrtc.NetworkTypeTCP6)
		}
	}
	se.SetNetworkTypes(types)
	se.DisableActiveTCP(true) // the server only accepts ICE-TCP, it never dials out
	se.SetInterfaceFilter(s.cfg.keepInterface)
	se.SetIncludeLoopbackCandidate(s.cfg.IncludeLoopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(5*time.Second, 20*time.Second, 2*time.Second)
	if s.cfg.PublicIP != "" {
		// Append, not replace: the local host candidates stay, so the embedded TURN (same host)
		// reaches the SFU without NAT hairpinning, while remote clients use the public one.
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        []string{s.cfg.PublicIP},
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteAppend,
		})
		if err != nil {
			return nil, fmt.Errorf("public ip: %w", err)
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(se)), nil
}

// registerCodecs offers Opus, VP8 and H.264 (each video codec with RTX) and the header
// extensions the SFU reads: audio level, mid, rid, repaired rid. Transport-cc is added with the
// interceptors.
func registerCodecs(me *webrtc.MediaEngine) error {
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
		{Type: "nack"}, {Type: "nack", Parameter: "pli"},
	}
	codecs := []struct {
		c    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB}, PayloadType: 96},
			webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: "apt=96"}, PayloadType: 97},
			webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
			PayloadType: 102}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: "apt=102"}, PayloadType: 103},
			webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"},
			PayloadType: 104}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: "apt=104"}, PayloadType: 105},
			webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c.c, c.kind); err != nil {
			return err
		}
	}
	exts := []struct {
		uri  string
		kind webrtc.RTPCodecType
	}{
		{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRepairRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
	}
	for _, e := range exts {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, e.kind); err != nil {
			return err
		}
	}
	return nil
}

// registerInterceptors wires congestion control (GCC over transport-cc feedback, without pacing
// so forwarding adds no queueing delay, and without a lock across writes: see directPacer), NACK
// responder and generator, RTCP sender and receiver reports, stats, and transport-cc both ways.
func (s *SFU) registerInterceptors(me *webrtc.MediaEngine, reg *interceptor.Registry) error {
	logs := pionLogs{s.log}
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(initialBitrate),
			gcc.SendSideBWEMinBitrate(minBitrate),
			gcc.SendSideBWEMaxBitrate(maxBitrate),
			gcc.SendSideBWEPacer(newDirectPacer()),
			gcc.WithLoggerFactory(logs),
		)
	})
	if err != nil {
		return err
	}
	// Called synchronously from NewPeerConnection, under pcMu (see newPeerConnection).
	ccf.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) { s.pendingBWE = e })
	reg.Add(ccf)
	err = webrtc.ConfigureNackWithOptions(me, reg,
		[]nack.GeneratorOption{nack.WithGeneratorLoggerFactory(logs)}, nack.WithResponderLoggerFactory(logs))
	if err != nil {
		return err
	}
	err = webrtc.ConfigureRTCPReportsWithOptions(reg,
		[]report.ReceiverOption{report.WithReceiverLoggerFactory(logs)}, report.WithSenderLoggerFactory(logs))
	if err != nil {
		return err
	}
	if err := webrtc.ConfigureStatsInterceptorWithOptions(reg, stats.WithLoggerFactory(logs)); err != nil {
		return err
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, reg); err != nil {
		return err
	}
	return webrtc.ConfigureTWCCSenderWithOptions(me, reg, twcc.WithLoggerFactory(logs))
}

// newPeerConnection creates a PeerConnection and returns the bandwidth estimator of its
// outgoing media.
func (s *SFU) newPeerConnection() (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	s.pcMu.Lock()
	defer s.pcMu.Unlock()
	s.pendingBWE = nil
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, nil, err
	}
	bwe := s.pendingBWE
	s.pendingBWE = nil
	return pc, bwe, nil
}

// Room returns the room with this id, creating it on first use.
func (s *SFU) Room(id string) (*Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if r, ok := s.rooms[id]; ok {
		return r, nil
	}
	r := newRoom(s, id)
	s.rooms[id] = r
	return r, nil
}

// Rooms lists the ids of the open rooms.
func (s *SFU) Rooms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.rooms))
	for id := range s.rooms {
		ids = append(ids, id)
	}
	return ids
}

func (s *SFU) removeRoom(r *Room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
}

// Close ends every room, then stops TURN and closes the media port. Like Room.Close, it must not
// be called from an Events method.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.Close()
	}
	var errs []error
	if s.turn != nil {
		errs = append(errs, s.turn.close())
	}
	s.closeTransport()
	s.log.Info("sfu stopped")
	return errors.Join(errs...)
}

var errClosed = rocca.Errorf(rocca.EGONE, "closed")
