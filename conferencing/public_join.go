package conferencing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// Viewer tokens let a citizen's page open the public stream's WebSocket. They are
// "p1.<stream>.<viewer>.<expiry>.<mac>", signed with the join-token key under a label of their own,
// so that a viewer token can never pass for a meeting join token (nor the reverse), and they name
// the stream, never the meeting.
const viewerTokenVersion = "p1"

// PublicJoinResponse tells the public page how to connect.
type PublicJoinResponse struct {
	Viewer    string `json:"viewer"` // the viewer's id for this visit
	Token     string `json:"token"`  // for the WebSocket join message
	WebSocket string `json:"ws"`     // path of the public stream's WebSocket
}

// issueViewer returns a token for viewer of stream.
func (t *tokens) issueViewer(stream, viewer string) string {
	body := viewerTokenVersion + "." + stream + "." + viewer + "." + strconv.FormatInt(t.now().Add(t.ttl).Unix(), 10)
	return body + "." + t.viewerMAC(body)
}

func (t *tokens) viewerMAC(body string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("rocca conf public viewer\x00"))
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verifyViewer checks a viewer token for stream and returns the viewer id.
func (t *tokens) verifyViewer(token, stream string) (string, error) {
	bad := rocca.Localized(rocca.EUNAUTHORIZED, "conf.error.token_invalid", "viewer token invalid")
	if len(token) > maxField {
		return "", bad
	}
	parts := strings.Split(token, ".")
	if len(parts) != 5 || parts[0] != viewerTokenVersion {
		return "", bad
	}
	body := strings.Join(parts[:4], ".")
	if !hmac.Equal([]byte(t.viewerMAC(body)), []byte(parts[4])) || parts[1] != stream || parts[2] == "" {
		return "", bad
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return "", bad
	}
	if t.now().Unix() > exp {
		return "", rocca.Localized(rocca.EGONE, "conf.error.token_expired", "viewer token expired")
	}
	return parts[2], nil
}

// JoinPublic gives a citizen a place in front of the public stream: a viewer id and a token, if
// the stream is live and not full. The WebSocket checks both again.
func (s *Service) JoinPublic(ctx context.Context, stream string) (*PublicJoinResponse, error) {
	m, err := meetingByStream(ctx, s.db, stream)
	if err != nil {
		return nil, err
	}
	if err := s.publicStatus(m); err != nil {
		return nil, err
	}
	// "v" + 16 characters: never equal to a participant id (16 characters), so a viewer cannot
	// displace a participant in the SFU room.
	id := "v" + randomID(10)
	return &PublicJoinResponse{Viewer: id, Token: s.tokens.issueViewer(stream, id), WebSocket: "/pubblico/" + stream + "/ws"}, nil
}

// publicJoin is POST /pubblico/{stream}/join (no login, JSON): the public page asks for a token
// before it opens the WebSocket. Errors come back as {"error":{"code","reason","message"}}, the
// reason telling the page what to show (public_not_live, public_closed, public_full, …).
func (p *publicSite) join(w http.ResponseWriter, r *http.Request) {
	s := p.s
	if !p.joins.allow(clientIP(r), s.now()) {
		s.publicError(w, r, rocca.Localized(rocca.ERATELIMIT, "conf.error.public_throttled", "too many requests from this address"))
		return
	}
	res, err := s.JoinPublic(r.Context(), r.PathValue("stream"))
	if err != nil {
		s.publicError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, res)
}

// publicError answers err as JSON with its reason, in the page's language.
func (s *Service) publicError(w http.ResponseWriter, r *http.Request, err error) {
	var e *rocca.Error
	code := rocca.ErrorCodeOf(err)
	if !errors.As(err, &e) || e.Key == "" || code == rocca.EINTERNAL {
		s.log.Error("public join failed", "err", err)
		r.Header.Set("Accept", "application/json")
		s.room.Error(w, r, err)
		return
	}
	web.JSON(w, web.StatusOf(code), map[string]any{"error": map[string]any{
		"code": code, "reason": strings.TrimPrefix(e.Key, "conf.error."), "message": s.cat.T(web.Lang(r), e.Key, e.Args...),
	}})
}

// clientIP is the host of the request's remote address. Forwarding headers are not trusted: behind
// a reverse proxy every citizen shares the proxy's budget, which is why the budget is generous.
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Public joins allowed per address: a town hall or a library may put many citizens behind one
// address, and every page asks again after each interruption, so the limit only stops floods.
const (
	publicJoinRate  = 2.0 // per second
	publicJoinBurst = 120
	publicIPsMax    = 4096 // addresses remembered before idle ones are forgotten
)

// ipThrottle is a token bucket per client address.
type ipThrottle struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

func (t *ipThrottle) allow(ip string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.buckets == nil {
		t.buckets = map[string]*bucket{}
	}
	if len(t.buckets) >= publicIPsMax {
		full := time.Duration(publicJoinBurst / publicJoinRate * float64(time.Second))
		for k, b := range t.buckets {
			if now.Sub(b.last) >= full { // refilled: forgetting it changes nothing
				delete(t.buckets, k)
			}
		}
	}
	b := t.buckets[ip]
	if b == nil {
		if len(t.buckets) >= publicIPsMax {
			return false // every remembered address is busy: a flood from many addresses
		}
		b = newBucket(publicJoinRate, publicJoinBurst, now)
		t.buckets[ip] = b
	}
	return b.take(now)
}
