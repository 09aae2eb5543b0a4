package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rocca-pa/rocca"
)

// The values of SMTPConfig.Security.
const (
	SecurityTLS      = "tls"      // implicit TLS from the first byte (port 465)
	SecurityStartTLS = "starttls" // plain connection upgraded with STARTTLS, required (port 587)
	SecurityNone     = "none"     // no encryption: only for a relay on this machine or a trusted LAN
)

// DefaultTimeout bounds connecting and each SMTP command when SMTPConfig.Timeout is zero.
const DefaultTimeout = time.Minute

// maxSendTime bounds a whole delivery, so that a relay that stops reading in the middle of a large
// message cannot hold the outbox for ever. 25 MB at 1 Mbit/s take under 4 minutes.
const maxSendTime = 30 * time.Minute

// SMTPConfig says how to reach the relay that sends Rocca's mail (section [mail] of the config).
type SMTPConfig struct {
	Host         string
	Port         int
	Security     string // tls | starttls | none
	User         string // AUTH PLAIN when set
	PasswordFile string // read on each connection, so a rotated password needs no restart
	// Auth, when set, logs in instead of User and PasswordFile: an *Account of Accounts (password
	// or OAuth2 with XOAUTH2/OAUTHBEARER), chosen from the mechanisms the relay offers.
	Auth    Auth
	HELO    string // the name Rocca gives in EHLO; the host name when empty
	Timeout time.Duration
	// RootCAs verifies the relay's certificate; nil means the system roots. Set it only for a
	// relay with a private CA (and in tests).
	RootCAs *x509.CertPool
}

// Validate checks the configuration without touching the network. It refuses a user name with
// Security "none" unless the host is loopback: the password would cross the network in clear.
func (c SMTPConfig) Validate() error {
	if c.Host == "" {
		return rocca.Localized(rocca.EINVALID, "mail.error.no_host", "no SMTP host configured")
	}
	if c.Port <= 0 || c.Port > 65535 {
		return rocca.Localized(rocca.EINVALID, "mail.error.port", "SMTP port must be between 1 and 65535")
	}
	switch c.Security {
	case SecurityTLS, SecurityStartTLS, SecurityNone:
	default:
		return rocca.Localized(rocca.EINVALID, "mail.error.security", "SMTP security must be tls, starttls or none")
	}
	if (c.User != "" || c.Auth != nil) && c.Security == SecurityNone && !isLoopback(c.Host) {
		return rocca.Localized(rocca.EINVALID, "mail.error.cleartext_auth",
			"refusing to send the SMTP password in clear to "+c.Host+": use tls or starttls", c.Host)
	}
	if c.User != "" && c.PasswordFile == "" {
		return rocca.Localized(rocca.EINVALID, "mail.error.no_password_file", "SMTP user set but no password file")
	}
	return nil
}

// isLoopback reports whether host names this machine without asking DNS.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// SMTP sends messages to one relay over a new connection per message. It implements Sender.
type SMTP struct {
	cfg    SMTPConfig
	logger *slog.Logger
}

// NewSMTP returns a sender for cfg. Call cfg.Validate first to report mistakes at start; Send checks
// again and fails (temporarily) while the configuration is wrong.
func NewSMTP(cfg SMTPConfig, logger *slog.Logger) *SMTP {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HELO == "" {
		cfg.HELO, _ = os.Hostname()
	}
	return &SMTP{cfg: cfg, logger: logger.With("part", "mail", "smtp", cfg.Host)}
}

// Send delivers raw to env.To through the relay. Errors about the message (a 5xx reply to MAIL,
// RCPT or DATA) are permanent; everything else, including a refused login, is temporary, because
// it is about the relay or the configuration and the message can go out once that is fixed.
// Cancelling ctx aborts the connection.
func (s *SMTP) Send(ctx context.Context, env Envelope, raw []byte) error {
	if err := s.cfg.Validate(); err != nil {
		return fmt.Errorf("smtp configuration: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, maxSendTime)
	defer cancel()
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	// A cancelled ctx closes the connection, which ends any command waiting on the relay.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	if err := s.auth(ctx, c); err != nil {
		return ctxErr(ctx, err)
	}
	if err := s.transaction(c, env, raw); err != nil {
		return ctxErr(ctx, err)
	}
	// The relay has the message; a failing QUIT changes nothing.
	if err := c.Quit(); err != nil {
		s.logger.Debug("smtp quit", "err", err)
	}
	return nil
}

// connect dials the relay and completes the greeting, EHLO and STARTTLS.
func (s *SMTP) connect(ctx context.Context) (*smtp.Client, error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	dialer := &net.Dialer{Timeout: s.cfg.Timeout}
	tlsConfig := &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	var conn net.Conn
	var err error
	if s.cfg.Security == SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var c *smtp.Client
	if s.cfg.Security == SecurityStartTLS {
		// go-smtp greets with "EHLO localhost" before STARTTLS; our name follows over TLS.
		c, err = smtp.NewClientStartTLS(conn, tlsConfig)
		if err != nil {
			conn.Close()
			return nil, ctxErr(ctx, fmt.Errorf("starttls with %s: %w", addr, err))
		}
	} else {
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout = s.cfg.Timeout
	c.SubmissionTimeout = s.cfg.Timeout
	if err := c.Hello(s.cfg.HELO); err != nil {
		c.Close()
		return nil, ctxErr(ctx, fmt.Errorf("hello to %s: %w", addr, err))
	}
	return c, nil
}

// auth logs in with AUTH PLAIN when a user is configured, or through cfg.Auth. The password file
// is read here, on each connection, and its content goes nowhere but the SASL exchange.
func (s *SMTP) auth(ctx context.Context, c *smtp.Client) error {
	if s.cfg.User == "" && s.cfg.Auth == nil {
		return nil
	}
	if _, isTLS := c.TLSConnectionState(); !isTLS && !isLoopback(s.cfg.Host) {
		return errors.New("smtp auth: refusing to send the password over a cleartext connection")
	}
	if s.cfg.Auth != nil {
		_, param := c.Extension("AUTH")
		if err := s.cfg.Auth.Authenticate(ctx, SMTPMechanisms(param), c.Auth); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
		return nil
	}
	body, err := os.ReadFile(s.cfg.PasswordFile)
	if err != nil {
		return fmt.Errorf("smtp auth: read password file: %w", err)
	}
	password := strings.TrimRight(string(body), "\r\n")
	if !c.SupportsAuth(sasl.Plain) {
		return fmt.Errorf("smtp auth: %s does not offer AUTH PLAIN", s.cfg.Host)
	}
	if err := c.Auth(sasl.NewPlainClient("", s.cfg.User, password)); err != nil {
		return fmt.Errorf("smtp auth as %s: %w", s.cfg.User, err)
	}
	return nil
}

// transaction runs MAIL, RCPT and DATA. Recipients refused with 5xx are skipped while others are
// accepted; a 4xx for any recipient postpones the whole message, so a later attempt cannot
// duplicate it for the recipients who already have it.
func (s *SMTP) transaction(c *smtp.Client, env Envelope, raw []byte) error {
	var opts *smtp.MailOptions
	if !isASCII(env.From) || !allASCII(env.To) {
		opts = &smtp.MailOptions{UTF8: true}
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return &PermanentError{Err: errors.New("the relay does not accept non-ASCII addresses (no SMTPUTF8)")}
		}
	}
	if err := c.Mail(env.From, opts); err != nil {
		return classify(fmt.Errorf("MAIL FROM:<%s>: %w", env.From, err))
	}
	rejected := map[string]error{}
	for _, rcpt := range env.To {
		err := c.Rcpt(rcpt, nil)
		if err == nil {
			continue
		}
		err = classify(fmt.Errorf("RCPT TO:<%s>: %w", rcpt, err))
		if !IsPermanent(err) {
			c.Reset()
			return err
		}
		rejected[rcpt] = err
	}
	if len(rejected) == len(env.To) {
		c.Reset()
		return &PermanentError{Err: &PartialError{Rejected: rejected}}
	}
	w, err := c.Data()
	if err != nil {
		return classify(fmt.Errorf("DATA: %w", err))
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return classify(fmt.Errorf("end of DATA: %w", err))
	}
	if len(rejected) > 0 {
		return &PartialError{Rejected: rejected}
	}
	return nil
}

// classify marks err permanent when it carries a 5xx reply from the relay.
func classify(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 && se.Code < 600 {
		return &PermanentError{Err: err}
	}
	return err
}

// ctxErr prefers the context's error when the context ended, since closing the connection on
// cancel makes the SMTP client report a confusing "use of closed connection".
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allASCII(l []string) bool {
	for _, s := range l {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
