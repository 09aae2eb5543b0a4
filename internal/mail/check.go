package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-imap/client"
)

// Live login checks for the installer's mail step and `rocca doctor`: they sign in as the running
// server would and log out, sending and fetching nothing. A failure's text goes to Hint for the
// usual fix.

// Check connects to the relay, logs in as configured (password or OAuth2) and quits.
func (s *SMTP) Check(ctx context.Context) error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.Timeout)
	defer cancel()
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := s.auth(ctx, c); err != nil {
		return ctxErr(ctx, err)
	}
	return c.Quit()
}

// CheckIMAP connects to an IMAP server (Security as for SMTP: tls, starttls or none), logs in with
// auth and logs out. rootCAs nil means the system roots.
func CheckIMAP(ctx context.Context, srv Server, auth Auth, rootCAs *x509.CertPool) error {
	addr := net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port))
	if srv.Security == SecurityNone && !isLoopback(srv.Host) {
		return fmt.Errorf("imap %s: refusing to log in over a cleartext connection", addr)
	}
	dialer := &net.Dialer{Timeout: DefaultTimeout}
	tlsConfig := &tls.Config{ServerName: srv.Host, RootCAs: rootCAs, MinVersion: tls.VersionTLS12}
	var c *client.Client
	var err error
	if srv.Security == SecurityTLS {
		c, err = client.DialWithDialerTLS(dialer, addr, tlsConfig)
	} else {
		c, err = client.DialWithDialer(dialer, addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer c.Terminate()
	stop := context.AfterFunc(ctx, func() { c.Terminate() })
	defer stop()
	c.ErrorLog = log.New(io.Discard, "", 0)
	c.Timeout = time.Minute
	if srv.Security == SecurityStartTLS {
		if err := c.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("starttls with %s: %w", addr, err)
		}
	}
	caps, err := c.Capability()
	if err != nil {
		return fmt.Errorf("imap %s: capability: %w", addr, err)
	}
	if err := auth.Authenticate(ctx, IMAPMechanisms(caps), c.Authenticate); err != nil {
		return fmt.Errorf("imap %s: %w", addr, err)
	}
	return c.Logout()
}
