package sfu

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

var turnSecret = []byte("test-secret-0123456789")

// A client that may only use relay candidates reaches the SFU through the embedded TURN server
// (over UDP, then over TCP) with the credentials the SFU issued, and exchanges media.
func TestTURNRelay(t *testing.T) {
	s := newTestSFU(t, func(c *Config) { c.TURNSecret = turnSecret })
	user, pass, urls := s.TURNCredentials("relay-user", time.Minute)
	if len(urls) != 2 || !strings.HasPrefix(urls[0], "turn:127.0.0.1:") {
		t.Fatalf("TURN urls %v", urls)
	}
	r, _ := s.Room("r")
	direct := joinAndPublish(t, r, "direct")[0]
	for i, url := range urls {
		name := []string{"relay-udp", "relay-tcp"}[i]
		rc := newClient(t, name, clientOpts{relayOnly: true,
			iceServers: []webrtc.ICEServer{{URLs: []string{url}, Username: user, Credential: pass}}})
		pub := rc.addTracks()
		rc.join(r, JoinOptions{})
		waitFor(t, long, name+" connected", func() bool {
			return rc.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
		})
		rc.send(pub)
		receivesAll(t, []*client{direct, rc}, 20)
		pair, err := rc.pc.GetTransceivers()[0].Sender().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("%s: no selected pair: %v", name, err)
		}
		if pair.Local.Typ != webrtc.ICECandidateTypeRelay {
			t.Errorf("%s: client uses a %s candidate, want relay", name, pair.Local.Typ)
		}
		if pair.Remote.Port != uint16(s.Port()) {
			t.Errorf("%s: relayed to port %d, want the media port %d", name, pair.Remote.Port, s.Port())
		}
		rc.close()
	}
}

// TURN accepts the credentials the SFU issues and refuses expired or forged ones.
func TestTURNCredentials(t *testing.T) {
	s := newTestSFU(t, func(c *Config) { c.TURNSecret = turnSecret })
	addr := strings.TrimSuffix(strings.TrimPrefix(s.turnURL(t), "turn:"), "?transport=udp")

	user, pass, _ := s.TURNCredentials("anna", time.Minute)
	if err := allocate(t, addr, user, pass); err != nil {
		t.Fatalf("fresh credentials refused: %v", err)
	}
	if err := allocate(t, addr, user, pass+"x"); err == nil {
		t.Error("wrong password accepted")
	}
	expUser, expPass, _ := s.TURNCredentials("anna", -time.Minute)
	if err := allocate(t, addr, expUser, expPass); err == nil {
		t.Error("expired credentials accepted")
	}
	// A later expiry with the old password: the HMAC covers the expiry.
	forged := strings.Replace(user, user[:strings.Index(user, ":")], "9999999999", 1)
	if err := allocate(t, addr, forged, pass); err == nil {
		t.Error("forged expiry accepted")
	}
}

func (s *SFU) turnURL(t *testing.T) string {
	t.Helper()
	_, _, urls := s.TURNCredentials("x", time.Minute)
	if len(urls) == 0 {
		t.Fatal("TURN off")
	}
	return urls[0]
}

func allocate(t *testing.T, addr, user, pass string) error {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, Username: user, Password: pass,
		Conn: conn, LoggerFactory: pionLogs{testLog(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		return err
	}
	return relay.Close()
}

// TURN relays only to this host's addresses.
func TestTURNPeersLimitedToHost(t *testing.T) {
	permit := onlyPeers([]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("203.0.113.7")}, testLog(t))
	for ip, want := range map[string]bool{"127.0.0.1": true, "203.0.113.7": true, "192.168.1.10": false, "10.0.0.1": false} {
		if got := permit(nil, net.ParseIP(ip)); got != want {
			t.Errorf("peer %s allowed=%v, want %v", ip, got, want)
		}
	}
}

// With UDP unavailable the client connects over ICE-TCP to the configured media port number.
func TestICETCPSamePort(t *testing.T) {
	port, err := freeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSFU(t, func(c *Config) { c.UDPPort = port })
	if s.Port() != port {
		t.Fatalf("listening on %d, configured %d", s.Port(), port)
	}
	r, _ := s.Room("r")
	direct := joinAndPublish(t, r, "udp")[0]
	tc := newClient(t, "tcp", clientOpts{network: webrtc.NetworkTypeTCP4})
	pub := tc.addTracks()
	tc.join(r, JoinOptions{})
	waitFor(t, long, "tcp client connected", func() bool {
		return tc.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	tc.send(pub)
	receivesAll(t, []*client{direct, tc}, 20)
	for _, c := range []*client{direct, tc} {
		waitFor(t, long, c.name+" stats", func() bool { return c.lastStats().Local.Port != 0 })
		want := map[string]string{"udp": "udp", "tcp": "tcp"}[c.name]
		if l := c.lastStats().Local; l.Port != port || l.Protocol != want {
			t.Errorf("%s: server side %+v, want %s port %d", c.name, l, want, port)
		}
	}
}

// With a TLS configuration TURN also answers on its TLS port (turns: URL).
func TestTURNOverTLS(t *testing.T) {
	cert := selfSigned(t)
	port, err := freeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSFU(t, func(c *Config) {
		c.TURNSecret = turnSecret
		c.TURNTLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		c.TURNTLSPort = port
	})
	user, pass, urls := s.TURNCredentials("anna", time.Minute)
	want := "turns:127.0.0.1:" + strconv.Itoa(port) + "?transport=tcp"
	if len(urls) != 3 || urls[2] != want {
		t.Fatalf("urls %v, want a third one %s", urls, want)
	}
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test certificate
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: conn.RemoteAddr().String(), Username: user,
		Password: pass, Conn: turn.NewSTUNConn(conn), LoggerFactory: pionLogs{testLog(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocation over TLS: %v", err)
	}
	_ = relay.Close()
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "turn.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
