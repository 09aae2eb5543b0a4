package sfu

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are HMAC-SHA1 by specification
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pion/turn/v5"
)

// turnServer is the embedded TURN server. It relays only to this host's own addresses, so it
// cannot be used to reach anything but the SFU.
type turnServer struct {
	srv     *turn.Server
	host    string
	port    int
	tlsPort int
	realm   string
}

func newTURNServer(cfg Config, mediaPort int, log *slog.Logger) (*turnServer, error) {
	log = log.With("component", "turn")
	realm := cfg.TURNRealm
	if realm == "" {
		realm = "rocca"
	}
	local := cfg.localIPs()
	relayIP := net.ParseIP(cfg.PublicIP)
	bindAddr := "0.0.0.0"
	if relayIP == nil {
		if len(local) == 0 {
			return nil, errors.New("no local address to relay from")
		}
		relayIP = local[0]
		bindAddr = relayIP.String()
	}
	host := cfg.TURNHost
	if host == "" {
		host = relayIP.String()
	}
	allowed := append([]net.IP{}, local...)
	if cfg.PublicIP != "" {
		allowed = append(allowed, net.ParseIP(cfg.PublicIP))
	}
	permit := onlyPeers(allowed, log)
	var gen turn.RelayAddressGenerator = &turn.RelayAddressGeneratorStatic{RelayAddress: relayIP, Address: bindAddr}
	if cfg.TURNRelayMaxPort > 0 {
		gen = &turn.RelayAddressGeneratorPortRange{RelayAddress: relayIP, Address: bindAddr,
			MinPort: uint16(cfg.TURNRelayMinPort), MaxPort: uint16(cfg.TURNRelayMaxPort)}
	}

	ts := &turnServer{host: host, realm: realm}
	var udp net.PacketConn
	var lns []net.Listener
	closeAll := func() {
		if udp != nil {
			_ = udp.Close()
		}
		for _, l := range lns {
			_ = l.Close()
		}
	}
	var lastErr error
	for range 20 {
		port := cfg.TURNPort
		if port == 0 {
			p, err := freeUDPPort()
			if err != nil {
				return nil, err
			}
			if p == mediaPort {
				continue
			}
			port = p
		}
		addr := net.JoinHostPort("", strconv.Itoa(port))
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			lastErr = err
		} else if l, err := net.Listen("tcp", addr); err != nil {
			_ = u.Close()
			lastErr = err
		} else {
			udp, lns, ts.port = u, []net.Listener{l}, port
			break
		}
		if cfg.TURNPort != 0 {
			break
		}
	}
	if udp == nil {
		return nil, fmt.Errorf("listen turn: %w", lastErr)
	}
	if cfg.TURNTLS != nil {
		l, err := tls.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.TURNTLSPort)), cfg.TURNTLS)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen turn tls: %w", err)
		}
		lns = append(lns, l)
		ts.tlsPort = cfg.TURNTLSPort
	}
	lcs := make([]turn.ListenerConfig, 0, len(lns))
	for _, l := range lns {
		lcs = append(lcs, turn.ListenerConfig{Listener: l, RelayAddressGenerator: gen, PermissionHandler: permit})
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:             realm,
		AuthHandler:       restAuth(cfg.TURNSecret, log),
		LoggerFactory:     pionLogs{log},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: udp, RelayAddressGenerator: gen, PermissionHandler: permit}},
		ListenerConfigs:   lcs,
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	ts.srv = srv
	log.Info("turn started", "host", host, "port", ts.port, "tls_port", ts.tlsPort, "relay_ip", relayIP.String())
	return ts, nil
}

func (t *turnServer) close() error { return t.srv.Close() }

// onlyPeers lets TURN clients relay to the listed addresses only (this host), so that the
// server is no open relay into the municipality's network or elsewhere.
func onlyPeers(allowed []net.IP, log *slog.Logger) turn.PermissionHandler {
	return func(_ net.Addr, peer net.IP) bool {
		for _, ip := range allowed {
			if ip.Equal(peer) {
				return true
			}
		}
		log.Warn("turn peer refused", "peer", peer.String())
		return false
	}
}

// restAuth checks TURN REST credentials: username "<unix expiry>:<user>", password
// base64(HMAC-SHA1(secret, username)). Expired or malformed usernames are refused.
func restAuth(secret []byte, log *slog.Logger) turn.AuthHandler {
	return func(ra *turn.RequestAttributes) (string, []byte, bool) {
		expiry, user, ok := strings.Cut(ra.Username, ":")
		if !ok {
			return "", nil, false
		}
		t, err := strconv.ParseInt(expiry, 10, 64)
		if err != nil || time.Now().Unix() > t {
			log.Debug("turn credentials refused", "user", user, "expired", err == nil)
			return "", nil, false
		}
		return user, turn.GenerateAuthKey(ra.Username, ra.Realm, restPassword(secret, ra.Username)), true
	}
}

func restPassword(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// TURNCredentials returns short-lived TURN credentials for user and the TURN URLs to give the
// client with them, valid for ttl. Without TURN it returns empty values.
func (s *SFU) TURNCredentials(user string, ttl time.Duration) (username, password string, urls []string) {
	if s.turn == nil {
		return "", "", nil
	}
	username = strconv.FormatInt(time.Now().Add(ttl).Unix(), 10) + ":" + user
	password = restPassword(s.cfg.TURNSecret, username)
	hp := net.JoinHostPort(s.turn.host, strconv.Itoa(s.turn.port))
	urls = []string{"turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
	if s.turn.tlsPort != 0 {
		urls = append(urls, "turns:"+net.JoinHostPort(s.turn.host, strconv.Itoa(s.turn.tlsPort))+"?transport=tcp")
	}
	return username, password, urls
}

// TURNAllocations returns the number of live TURN allocations (0 when TURN is off), for metrics.
func (s *SFU) TURNAllocations() int {
	if s.turn == nil {
		return 0
	}
	return s.turn.srv.AllocationCount()
}
