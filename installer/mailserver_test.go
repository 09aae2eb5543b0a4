package installer

import (
	"io"
	"log"
	"net"
	"testing"

	"github.com/emersion/go-imap/backend/memory"
	imapserver "github.com/emersion/go-imap/server"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// startIMAP runs a real IMAP server on loopback with go-imap's in-memory backend: user "username",
// password "password", folder INBOX.
func startIMAP(t *testing.T) int {
	t.Helper()
	s := imapserver.New(memory.New())
	s.AllowInsecureAuth = true // loopback only
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// startSMTP runs a real SMTP server on loopback that accepts AUTH PLAIN for user/password.
func startSMTP(t *testing.T, user, password string) int {
	t.Helper()
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{user: user, password: password}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true // loopback only
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

type smtpSession struct{ user, password string }

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.user || password != s.password {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }
