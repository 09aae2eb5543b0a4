package mail

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
)

// oauthRelay is an SMTP server that accepts only XOAUTH2, checking each token with the provider
// the way Exchange Online checks its own.
type oauthRelay struct {
	host  string
	port  int
	p     *oauthtest.Provider
	mu    sync.Mutex
	msgs  []received
	auths []string // "ok user" or "refused"
}

func startOAuthRelay(t *testing.T, p *oauthtest.Provider) *oauthRelay {
	t.Helper()
	r := &oauthRelay{p: p}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &oauthSession{r: r}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback only
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.host, r.port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *oauthRelay) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.msgs...)
}

func (r *oauthRelay) authLog() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}

type oauthSession struct {
	r      *oauthRelay
	user   string
	from   string
	to     []string
	authed string
}

func (s *oauthSession) AuthMechanisms() []string { return []string{MechXOAuth2} }

func (s *oauthSession) Auth(mech string) (sasl.Server, error) {
	if mech != MechXOAuth2 {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return &xoauth2Server{s: s}, nil
}

// xoauth2Server checks "user=U^Aauth=Bearer T^A^A"; a refused token gets the JSON challenge, and
// the client's empty answer ends the exchange with 535.
type xoauth2Server struct {
	s       *oauthSession
	refused bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.refused {
		return nil, true, smtp.ErrAuthFailed
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	parts := strings.Split(string(resp), "\x01")
	user := strings.TrimPrefix(parts[0], "user=")
	token := ""
	for _, p := range parts {
		if t, ok := strings.CutPrefix(p, "auth=Bearer "); ok {
			token = t
		}
	}
	r := x.s.r
	email, ok := r.p.ValidAccess(token)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok || email != user {
		r.auths = append(r.auths, "refused")
		x.refused = true
		return []byte(`{"status":"401","schemes":"bearer"}`), false, nil
	}
	r.auths = append(r.auths, "ok "+user)
	x.s.authed = user
	return nil, true, nil
}

func (s *oauthSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *oauthSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *oauthSession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.msgs = append(s.r.msgs, received{From: s.from, To: s.to, Data: b, User: s.authed})
	return nil
}

func (s *oauthSession) Reset()        { s.from, s.to = "", nil }
func (s *oauthSession) Logout() error { return nil }

// TestOutboxThroughXOAuth2Relay is acceptance 5: replies leave through a relay that accepts only
// XOAUTH2, with the outbox's guarantees: a token the relay refuses is refreshed on the spot, a
// revoked sign-in keeps the mail queued (not failed, not lost), and after a new sign-in it goes
// out exactly once.
func TestOutboxThroughXOAuth2Relay(t *testing.T) {
	e := newAccountsEnv(t)
	relay := startOAuthRelay(t, e.p)
	e.signIn()
	clock := newClock()
	sender := NewSMTP(SMTPConfig{Host: relay.host, Port: relay.port, Security: SecurityNone, HELO: "rocca.test",
		Timeout: 30 * time.Second, Auth: e.acct}, discardLogger())
	o := NewOutbox(e.db, sender, discardLogger(), clock.Now)
	runOutbox(t, o)
	ctx := context.Background()

	if err := sender.Check(ctx); err != nil {
		t.Fatalf("live check: %v", err)
	}
	first, err := o.Enqueue(ctx, annaEnv, testRaw(t, "Risposta 1"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first delivery", func() bool { return item(t, o, first).State == StateSent })
	if got := relay.received(); len(got) != 1 || got[0].User != e.p.Email {
		t.Fatalf("relay received %+v", got)
	}

	// The relay stops accepting the cached token before its expiry: one refresh, same delivery.
	e.p.RevokeAccessTokens()
	second, _ := o.Enqueue(ctx, annaEnv, testRaw(t, "Risposta 2"))
	waitFor(t, "second delivery", func() bool { return item(t, o, second).State == StateSent })
	if a := relay.authLog(); strings.Join(a, ",") != "ok "+e.p.Email+",ok "+e.p.Email+",refused,ok "+e.p.Email {
		t.Errorf("relay auth log = %v", a)
	}

	// Consent withdrawn: the mail waits in the queue with the reason, it does not fail.
	e.p.RevokeRefreshTokens()
	e.p.RevokeAccessTokens()
	third, _ := o.Enqueue(ctx, annaEnv, testRaw(t, "Risposta 3"))
	waitFor(t, "a failed attempt", func() bool { return item(t, o, third).Attempts >= 1 && item(t, o, third).State == StateQueued })
	it := item(t, o, third)
	if !strings.Contains(it.LastError, "invalid_grant") {
		t.Errorf("last error = %q", it.LastError)
	}
	if st, _ := e.s.AccountStatus(ctx, "helpdesk"); st.State != StatusRevoked {
		t.Errorf("account = %+v", st)
	}
	e.signIn()
	clock.Advance(2 * time.Minute) // past the first retry wait
	o.Wake()
	waitFor(t, "delivery after signing in again", func() bool { return item(t, o, third).State == StateSent })
	msgs := relay.received()
	if len(msgs) != 3 || relay.countID(t, item(t, o, third).MessageID) != 1 {
		t.Errorf("relay has %d messages; the third %d times", len(msgs), relay.countID(t, item(t, o, third).MessageID))
	}
	for _, m := range msgs {
		if m.User != e.p.Email {
			t.Errorf("a message was accepted without XOAUTH2 as %s: %+v", e.p.Email, m.User)
		}
	}
}

func (r *oauthRelay) countID(t testing.TB, id string) int {
	n := 0
	for _, m := range r.received() {
		if messageIDOf(t, m.Data) == id {
			n++
		}
	}
	return n
}

// TestSMTPWithoutOAuthMechanism: a relay without XOAUTH2/OAUTHBEARER is a clear, temporary error.
func TestSMTPWithoutOAuthMechanism(t *testing.T) {
	e := newAccountsEnv(t)
	e.signIn()
	ts := startServer(t, serverOptions{})
	ts.setAuth("x", "y") // offers PLAIN only
	cfg := ts.config()
	cfg.Auth = e.acct
	err := NewSMTP(cfg, discardLogger()).Send(context.Background(), annaEnv, testRaw(t, "x"))
	if !errors.Is(err, ErrNoMechanism) || IsPermanent(err) {
		t.Errorf("err = %v", err)
	}
}
