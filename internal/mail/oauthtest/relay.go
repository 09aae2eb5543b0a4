package oauthtest

import (
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Relay is an SMTP server of the test's own, on loopback and without TLS, that accepts only
// XOAUTH2 and OAUTHBEARER and checks each token with the provider, as Exchange Online does. It
// keeps the messages it is given.
type Relay struct {
	Host string // 127.0.0.1
	Port int

	p            *Provider
	mu           sync.Mutex
	logins       []string // "ok <user>" or "refused"
	messages     [][]byte
	authDisabled bool
}

// errAuthDisabled is Exchange Online's answer when SMTP AUTH is turned off for the tenant.
var errAuthDisabled = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 139},
	Message: "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."}

// Relay starts a relay that trusts this provider; it stops when the test ends.
func (p *Provider) Relay(t testing.TB) *Relay {
	t.Helper()
	r := &Relay{p: p}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback only
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Host, r.Port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

// DisableAuth makes the relay refuse every login as Exchange Online does when SMTP AUTH is
// disabled for the tenant (535 5.7.139), or accept good tokens again.
func (r *Relay) DisableAuth(disabled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.authDisabled = disabled
}

// Logins returns the outcome of every login: "ok <user>" or "refused".
func (r *Relay) Logins() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logins...)
}

// Messages returns the messages the relay accepted.
func (r *Relay) Messages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.messages...)
}

type relaySession struct {
	r      *Relay
	authed string
}

func (s *relaySession) AuthMechanisms() []string { return []string{"XOAUTH2", "OAUTHBEARER"} }

func (s *relaySession) Auth(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" && mech != "OAUTHBEARER" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return &bearerServer{s: s}, nil
}

// bearerServer checks "user=U^Aauth=Bearer T^A^A" (XOAUTH2) or "n,a=U,^Aauth=Bearer T^A^A"
// (OAUTHBEARER). A refused token gets the JSON challenge; the client's answer to it ends the
// exchange with 535.
type bearerServer struct {
	s       *relaySession
	refused error
}

func (b *bearerServer) Next(resp []byte) ([]byte, bool, error) {
	if b.refused != nil {
		return nil, true, b.refused
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	user, token := parseBearer(string(resp))
	r := b.s.r
	email, ok := r.p.ValidAccess(token)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.authDisabled {
		r.logins = append(r.logins, "refused")
		return nil, true, errAuthDisabled
	}
	if !ok || !strings.EqualFold(email, user) {
		r.logins = append(r.logins, "refused")
		b.refused = smtp.ErrAuthFailed
		return []byte(`{"status":"401","schemes":"bearer"}`), false, nil
	}
	r.logins = append(r.logins, "ok "+user)
	b.s.authed = user
	return nil, true, nil
}

func parseBearer(resp string) (user, token string) {
	for _, part := range strings.Split(resp, "\x01") {
		switch {
		case strings.HasPrefix(part, "user="):
			user = strings.TrimPrefix(part, "user=")
		case strings.HasPrefix(part, "n,"):
			for _, f := range strings.Split(part, ",") {
				if u, ok := strings.CutPrefix(f, "a="); ok {
					user = u
				}
			}
		case strings.HasPrefix(part, "auth=Bearer "):
			token = strings.TrimPrefix(part, "auth=Bearer ")
		}
	}
	return user, token
}

func (s *relaySession) Mail(string, *smtp.MailOptions) error {
	if s.authed == "" {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (s *relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (s *relaySession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.messages = append(s.r.messages, b)
	return nil
}

func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }
