package helpdesk

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"

	"github.com/rocca-pa/rocca/internal/mail"
)

// smtpSink is a real SMTP server (go-smtp) on loopback that keeps what it receives: the relay
// the outbox delivers to in end-to-end tests.
type smtpSink struct {
	addr *net.TCPAddr
	mu   sync.Mutex
	got  []queued
	cond chan struct{} // closed and replaced at each message
}

func startSMTP(t testing.TB) *smtpSink {
	t.Helper()
	s := &smtpSink{cond: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{sink: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	srv.MaxMessageBytes = 30 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().(*net.TCPAddr)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpSink) config() mail.SMTPConfig {
	return mail.SMTPConfig{Host: "127.0.0.1", Port: s.addr.Port, Security: mail.SecurityNone, Timeout: 30 * time.Second}
}

func (s *smtpSink) received() []queued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]queued(nil), s.got...)
}

// waitFor waits until pred holds over the received mail.
func (s *smtpSink) waitFor(t testing.TB, what string, pred func([]queued) bool) []queued {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		got, ch := append([]queued(nil), s.got...), s.cond
		s.mu.Unlock()
		if pred(got) {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("SMTP server: %s: not within a minute (%d received)", what, len(got))
		}
	}
}

type smtpSession struct {
	sink *smtpSink
	from string
	to   []string
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	q := queued{From: s.from, To: s.to, Raw: raw, Header: h}
	s.sink.mu.Lock()
	s.sink.got = append(s.sink.got, q)
	close(s.sink.cond)
	s.sink.cond = make(chan struct{})
	s.sink.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// addressed returns the received mail to addr.
func addressed(list []queued, addr string) []queued {
	var out []queued
	for _, q := range list {
		for _, to := range q.To {
			if strings.EqualFold(to, addr) {
				out = append(out, q)
			}
		}
	}
	return out
}
