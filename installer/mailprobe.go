package installer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail"
)

// mailTimeout bounds a whole IMAP or SMTP probe.
const mailTimeout = 20 * time.Second

// mailServer is a mail server to probe, as the config describes it.
type mailServer struct {
	host     string
	port     int
	security config.Security
	user     string
	password string
	auth     mail.Auth // an OAuth2 sign-in instead of user and password
}

// dial connects to s through sys, with the deadline of ctx, and for implicit TLS wraps the
// connection. STARTTLS is left to the protocol.
func (s mailServer) dial(ctx context.Context, sys System) (net.Conn, error) {
	conn, err := sys.Dial(ctx, "tcp", net.JoinHostPort(s.host, strconv.Itoa(s.port)))
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if s.security != config.SecurityTLS {
		return conn, nil
	}
	tc := tls.Client(conn, s.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return tc, nil
}

func (s mailServer) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
}

// password returns typed, or the content of file without the final newline.
func password(typed, file string) (string, error) {
	if typed != "" || file == "" {
		return typed, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// isMicrosoft reports whether host is Exchange Online, which refuses passwords (OAuth2 only).
func isMicrosoft(host string) bool {
	h := strings.ToLower(host)
	return strings.HasSuffix(h, "office365.com") || strings.HasSuffix(h, "outlook.com")
}

// isPEC reports whether host looks like a certified mail (PEC) provider's server.
func isPEC(host string) bool {
	h := "." + strings.ToLower(host) + "."
	for _, s := range []string{".pec.", ".cert.", "legalmail", "postacert", "arubapec", "pecimap"} {
		if strings.Contains(h, s) {
			return true
		}
	}
	return false
}

// errorText is err as a short single line for a message argument.
func errorText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
