package mail

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func testRaw(t testing.TB, subject string) []byte {
	t.Helper()
	m := Message{
		From:    netmail.Address{Name: "Helpdesk", Address: "helpdesk@comune.example.it"},
		To:      []netmail.Address{{Address: "anna@comune.example.it"}},
		Subject: subject,
		Text:    "Buongiorno,\n.\nuna riga che inizia con un punto.\n",
	}
	raw, _, err := m.Bytes(testNow, "comune.example.it")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSMTPDeliver(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s := NewSMTP(ts.config(), discardLogger())
	raw := testRaw(t, "Consegna")
	env := Envelope{From: "helpdesk@comune.example.it", To: []string{"anna@comune.example.it", "bruno@comune.example.it"}}
	if err := s.Send(context.Background(), env, raw); err != nil {
		t.Fatal(err)
	}
	got := ts.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	if got[0].From != env.From || !slices.Equal(got[0].To, env.To) {
		t.Errorf("envelope = %q %v", got[0].From, got[0].To)
	}
	if !bytes.Equal(got[0].Data, raw) {
		t.Errorf("the relay got different bytes:\n%s\nwant\n%s", got[0].Data, raw)
	}
	if !strings.Contains(ts.debugLog(), "EHLO rocca.test") {
		t.Error("the configured HELO name was not used")
	}
}

func TestSMTPNullSender(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s := NewSMTP(ts.config(), discardLogger())
	if err := s.Send(context.Background(), Envelope{From: "", To: []string{"anna@comune.example.it"}}, testRaw(t, "Risposta automatica")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ts.debugLog(), "MAIL FROM:<>") {
		t.Errorf("no MAIL FROM:<> in the session:\n%s", ts.debugLog())
	}
	if got := ts.received(); len(got) != 1 || got[0].From != "" {
		t.Errorf("received = %+v", got)
	}
}

func TestSMTPAuthPlainWithPasswordFile(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.setAuth("rocca@comune.example.it", "primo-segreto")
	pwFile := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pwFile, []byte("primo-segreto\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := ts.config()
	cfg.User, cfg.PasswordFile = "rocca@comune.example.it", pwFile
	if err := cfg.Validate(); err != nil {
		t.Fatalf("AUTH over cleartext to loopback refused: %v", err)
	}
	s := NewSMTP(cfg, logger)
	env := Envelope{From: "helpdesk@comune.example.it", To: []string{"anna@comune.example.it"}}
	if err := s.Send(context.Background(), env, testRaw(t, "Con login")); err != nil {
		t.Fatal(err)
	}
	if got := ts.received(); len(got) != 1 || got[0].User != "rocca@comune.example.it" {
		t.Fatalf("received = %+v, want one message from the authenticated user", got)
	}

	// The password is read on each connection: rotating the file needs no restart.
	ts.setAuth("rocca@comune.example.it", "secondo-segreto")
	err := s.Send(context.Background(), env, testRaw(t, "Password vecchia"))
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	if IsPermanent(err) {
		t.Errorf("a refused login is permanent (%v): it is about the configuration, not the message", err)
	}
	if err := os.WriteFile(pwFile, []byte("secondo-segreto\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), env, testRaw(t, "Password nuova")); err != nil {
		t.Fatalf("after rotating the password file: %v", err)
	}
	if n := len(ts.received()); n != 2 {
		t.Errorf("server has %d messages, want 2", n)
	}
	for _, secret := range []string{"primo-segreto", "secondo-segreto"} {
		if strings.Contains(logs.String(), secret) || strings.Contains(err.Error(), secret) {
			t.Errorf("the password %q appears in the logs or errors", secret)
		}
	}
}

func TestSMTPRefusesCleartextAuthToRemoteHost(t *testing.T) {
	cfg := SMTPConfig{Host: "smtp.example.org", Port: 25, Security: SecurityNone, User: "rocca", PasswordFile: "/nonexistent"}
	err := cfg.Validate()
	if e, ok := errorsAs[*rocca.Error](err); !ok || e.Key != "mail.error.cleartext_auth" {
		t.Fatalf("Validate = %v, want the cleartext AUTH refusal", err)
	}
	// Send refuses before any network traffic (smtp.example.org must never be contacted).
	err = NewSMTP(cfg, discardLogger()).Send(context.Background(), Envelope{To: []string{"a@b.example"}}, []byte("x"))
	if e, ok := errorsAs[*rocca.Error](err); !ok || e.Key != "mail.error.cleartext_auth" {
		t.Fatalf("Send = %v, want the cleartext AUTH refusal", err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost", "127.0.0.53"} {
		cfg.Host = host
		if err := cfg.Validate(); err != nil {
			t.Errorf("loopback %s: %v", host, err)
		}
	}
	cfg.Host, cfg.Security = "smtp.example.org", SecurityStartTLS
	if err := cfg.Validate(); err != nil {
		t.Errorf("AUTH with STARTTLS: %v", err)
	}
	for _, bad := range []SMTPConfig{
		{Host: "", Port: 25, Security: SecurityNone},
		{Host: "x", Port: 0, Security: SecurityNone},
		{Host: "x", Port: 25, Security: "ssl"},
		{Host: "x", Port: 25, Security: SecurityTLS, User: "u"},
	} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
}

func TestSMTPStartTLS(t *testing.T) {
	serverTLS, roots := selfSigned(t)
	ts := startServer(t, serverOptions{tls: serverTLS})
	ts.setAuth("rocca", "segreto")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("segreto"), 0o600)
	cfg := ts.config()
	cfg.Security, cfg.RootCAs, cfg.User, cfg.PasswordFile = SecurityStartTLS, roots, "rocca", pwFile
	env := Envelope{From: "helpdesk@comune.example.it", To: []string{"anna@comune.example.it"}}
	if err := NewSMTP(cfg, discardLogger()).Send(context.Background(), env, testRaw(t, "STARTTLS")); err != nil {
		t.Fatal(err)
	}
	if got := ts.received(); len(got) != 1 || !got[0].TLS || got[0].User != "rocca" {
		t.Fatalf("received = %+v, want one message over TLS after login", got)
	}

	// An untrusted certificate is an error, and a temporary one (fix the config, the mail goes).
	cfg.RootCAs = nil
	err := NewSMTP(cfg, discardLogger()).Send(context.Background(), env, testRaw(t, "Certificato"))
	if err == nil || IsPermanent(err) {
		t.Fatalf("untrusted certificate: err = %v, want a temporary error", err)
	}
}

func TestSMTPStartTLSRequired(t *testing.T) {
	ts := startServer(t, serverOptions{}) // offers no STARTTLS
	cfg := ts.config()
	cfg.Security = SecurityStartTLS
	err := NewSMTP(cfg, discardLogger()).Send(context.Background(), Envelope{To: []string{"anna@comune.example.it"}}, testRaw(t, "x"))
	if err == nil || IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error: no STARTTLS offered", err)
	}
	if len(ts.received()) != 0 {
		t.Fatal("sent in clear although starttls is configured")
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	serverTLS, roots := selfSigned(t)
	ts := startServer(t, serverOptions{tls: serverTLS, implicit: true})
	cfg := ts.config()
	cfg.Security, cfg.RootCAs = SecurityTLS, roots
	if err := NewSMTP(cfg, discardLogger()).Send(context.Background(), Envelope{To: []string{"anna@comune.example.it"}}, testRaw(t, "TLS")); err != nil {
		t.Fatal(err)
	}
	if got := ts.received(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("received = %+v, want one message over TLS", got)
	}
}

func TestSMTPErrorClasses(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s := NewSMTP(ts.config(), discardLogger())
	ctx := context.Background()
	raw := testRaw(t, "Errori")
	one := Envelope{From: "helpdesk@comune.example.it", To: []string{"anna@comune.example.it"}}

	ts.setRcptReply("anna@comune.example.it", errPerm)
	if err := s.Send(ctx, one, raw); !IsPermanent(err) {
		t.Errorf("550 to RCPT: err = %v, want permanent", err)
	}
	ts.setRcptReply("anna@comune.example.it", errTemp)
	if err := s.Send(ctx, one, raw); err == nil || IsPermanent(err) {
		t.Errorf("451 to RCPT: err = %v, want temporary", err)
	}
	ts.setRcptReply("anna@comune.example.it", nil)
	ts.setDataReply(errTemp)
	if err := s.Send(ctx, one, raw); err == nil || IsPermanent(err) {
		t.Errorf("451 to DATA: err = %v, want temporary", err)
	}
	ts.setDataReply(errPerm)
	if err := s.Send(ctx, one, raw); !IsPermanent(err) {
		t.Errorf("550 to DATA: err = %v, want permanent", err)
	}
	ts.setDataReply(nil)
	if len(ts.received()) != 0 {
		t.Fatal("a refused message was recorded")
	}

	// One recipient refused for good, the other accepted: delivered to the other, reported.
	ts.setRcptReply("nessuno@comune.example.it", errPerm)
	two := Envelope{From: one.From, To: []string{"nessuno@comune.example.it", "anna@comune.example.it"}}
	err := s.Send(ctx, two, raw)
	p, ok := errorsAs[*PartialError](err)
	if !ok || IsPermanent(err) || p.Rejected["nessuno@comune.example.it"] == nil || len(p.Rejected) != 1 {
		t.Fatalf("err = %v, want a PartialError naming the refused recipient", err)
	}
	if got := ts.received(); len(got) != 1 || !slices.Equal(got[0].To, []string{"anna@comune.example.it"}) {
		t.Fatalf("received = %+v", got)
	}

	// Nobody listening: temporary.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := ts.config()
	cfg.Port = closed
	if err := NewSMTP(cfg, discardLogger()).Send(ctx, one, raw); err == nil || IsPermanent(err) {
		t.Errorf("connection refused: err = %v, want temporary", err)
	}
}

func TestSMTPCancel(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	ts.mu.Lock()
	ts.dataHook = func() { cancel(); <-release }
	ts.mu.Unlock()
	defer close(release)
	err := NewSMTP(ts.config(), discardLogger()).Send(ctx, Envelope{To: []string{"anna@comune.example.it"}}, testRaw(t, "x"))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("err = %v, want a temporary error naming the cancellation", err)
	}
}
