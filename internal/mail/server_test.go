package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rocca-pa/rocca/internal/sqlite"
)

// testServer is a real SMTP server (go-smtp) on loopback that records what it receives and can be
// told to refuse with 4xx/5xx replies.
type testServer struct {
	host string
	port int

	mu        sync.Mutex
	msgs      []received
	dataReply *smtp.SMTPError            // refuse DATA with this while set
	rcptReply map[string]*smtp.SMTPError // refuse these recipients
	user      string                     // AUTH PLAIN required when set
	password  string
	dataHook  func() // called when DATA starts, before the body is read
	debug     bytes.Buffer
}

type received struct {
	From string
	To   []string
	Data []byte
	User string // the authenticated user, if any
	TLS  bool
}

type serverOptions struct {
	tls      *tls.Config // offer STARTTLS with this config
	implicit bool        // with tls: TLS from the first byte
}

func startServer(t testing.TB, opts serverOptions) *testServer {
	t.Helper()
	ts := &testServer{rcptReply: map[string]*smtp.SMTPError{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &testSession{srv: ts, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback only
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.Debug = lockedWriter{&ts.mu, &ts.debug}
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	var l net.Listener
	var err error
	if opts.tls != nil && opts.implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", opts.tls)
	} else {
		srv.TLSConfig = opts.tls
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	ts.host, ts.port = "127.0.0.1", addr.Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ts
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

func (ts *testServer) config() SMTPConfig {
	return SMTPConfig{Host: ts.host, Port: ts.port, Security: SecurityNone, HELO: "rocca.test", Timeout: 30 * time.Second}
}

func (ts *testServer) received() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

func (ts *testServer) debugLog() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.debug.String()
}

func (ts *testServer) setDataReply(e *smtp.SMTPError) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.dataReply = e
}

func (ts *testServer) setRcptReply(rcpt string, e *smtp.SMTPError) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.rcptReply[rcpt] = e
}

func (ts *testServer) setAuth(user, password string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.user, ts.password = user, password
}

// countMessageID counts received messages whose Message-ID header is id.
func (ts *testServer) countMessageID(t testing.TB, id string) int {
	n := 0
	for _, r := range ts.received() {
		if messageIDOf(t, r.Data) == id {
			n++
		}
	}
	return n
}

type testSession struct {
	srv    *testServer
	conn   *smtp.Conn
	authed string
	from   string
	to     []string
}

func (s *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, password string) error {
		s.srv.mu.Lock()
		defer s.srv.mu.Unlock()
		if user != s.srv.user || password != s.srv.password {
			return smtp.ErrAuthFailed
		}
		s.authed = user
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	s.srv.mu.Lock()
	needAuth := s.srv.user != ""
	s.srv.mu.Unlock()
	if needAuth && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	e := s.srv.rcptReply[to]
	s.srv.mu.Unlock()
	if e != nil {
		return e
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	s.srv.mu.Lock()
	hook, reply := s.srv.dataHook, s.srv.dataReply
	s.srv.mu.Unlock()
	if hook != nil {
		hook()
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if reply != nil {
		return reply
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, received{From: s.from, To: s.to, Data: body, User: s.authed, TLS: isTLS})
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

var (
	errTemp = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	errPerm = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
)

// selfSigned returns a server TLS config for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rocca test relay"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// testClock is the injectable clock of the outbox tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// waitFor polls cond until it holds; the deadline only keeps a broken test from hanging.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openDB(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "rocca.db")
	}
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background(), Migrations()); err != nil {
		t.Fatal(err)
	}
	return db
}

// runOutbox starts o.Run and stops it (waiting for it) when the test ends.
func runOutbox(t testing.TB, o *Outbox) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// item returns the outbox row id.
func item(t testing.TB, o *Outbox, id int64) Item {
	t.Helper()
	items, err := o.Items(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == id {
			return it
		}
	}
	t.Fatalf("message %d not in the outbox", id)
	return Item{}
}

func errorsAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
