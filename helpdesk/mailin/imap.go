package mailin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
	"github.com/emersion/go-sasl"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/config"
)

// The values of IMAPConfig.Security (the same words as the config file's imap_security).
const (
	SecurityTLS      = "tls"      // TLS from the first byte (IMAPS, port 993)
	SecurityStartTLS = "starttls" // plain connection upgraded with STARTTLS, required (port 143)
	SecurityNone     = "none"     // no encryption: only for a server on this machine
)

// Defaults of IMAPConfig.
const (
	DefaultPollInterval = 2 * time.Minute
	DefaultTimeout      = time.Minute
	DefaultBatch        = 50
	// ProcessedKeyword flags the messages handled when IMAPConfig.ProcessedFolder is empty.
	ProcessedKeyword = "$RoccaProcessed"
)

// IMAPConfig says how to reach the helpdesk mailbox (section [helpdesk] of the config).
type IMAPConfig struct {
	Host         string
	Port         int
	Security     string // tls | starttls | none
	User         string
	PasswordFile string // read at each connection, so a rotated password needs no restart
	Folder       string // where new mail arrives, e.g. "INBOX"
	// ProcessedFolder receives each message once the sink has stored it ("/" is replaced by the
	// server's hierarchy separator; the folder is created when missing). Empty: messages stay in
	// Folder and get the keyword ProcessedKeyword instead.
	ProcessedFolder string

	PollInterval time.Duration // safety poll while idling; DefaultPollInterval when zero
	Timeout      time.Duration // connecting and each command; DefaultTimeout when zero
	Batch        int           // messages fetched per FETCH; DefaultBatch when zero
	// MinBackoff and MaxBackoff bound the jittered wait before reconnecting; 1 s and 5 min when zero.
	MinBackoff, MaxBackoff time.Duration
	// RootCAs verifies the server's certificate; nil means the system roots. Tests and servers with
	// a private CA set it.
	RootCAs *x509.CertPool
	// Auth, when set, signs in with SASL (an OAuth2 token, say) instead of LOGIN with User and
	// PasswordFile; cmd/rocca passes the mail accounts' authenticator.
	Auth Authenticator
}

// Authenticator signs in to a mail server: it picks a SASL client for one of mechs (the
// mechanisms the server offers) and runs do with it, here go-imap's AUTHENTICATE.
type Authenticator interface {
	Authenticate(ctx context.Context, mechs []string, do func(sasl.Client) error) error
}

// Validate checks the configuration without touching the network.
func (c IMAPConfig) Validate() error {
	if c.Host == "" {
		return rocca.Localized(rocca.EINVALID, "helpdesk.imap.error.no_host", "no IMAP host configured")
	}
	if c.Port <= 0 || c.Port > 65535 {
		return rocca.Localized(rocca.EINVALID, "helpdesk.imap.error.port", "the IMAP port must be between 1 and 65535")
	}
	switch c.Security {
	case SecurityTLS, SecurityStartTLS, SecurityNone:
	default:
		return rocca.Localized(rocca.EINVALID, "helpdesk.imap.error.security", "IMAP security must be tls, starttls or none")
	}
	if c.Security == SecurityNone && !isLoopback(c.Host) {
		return rocca.Localized(rocca.EINVALID, "helpdesk.imap.error.cleartext",
			"refusing to send the IMAP password in clear to "+c.Host+": use tls or starttls", c.Host)
	}
	if c.Auth == nil && (c.User == "" || c.PasswordFile == "") {
		return rocca.Localized(rocca.EINVALID, "helpdesk.imap.error.credentials", "the IMAP user and password file are required")
	}
	if c.Folder == "" {
		return rocca.Localized(rocca.EINVALID, "helpdesk.imap.error.folder", "the IMAP folder is required")
	}
	if c.ProcessedFolder == c.Folder {
		return rocca.Localized(rocca.EINVALID, "helpdesk.imap.error.same_folder", "the processed folder must differ from the folder read")
	}
	return nil
}

func (c IMAPConfig) withDefaults() IMAPConfig {
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	return c
}

// isLoopback reports whether host names this machine without asking DNS.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// dial connects, protects the connection as configured and logs in. The password is read from
// its file here and never logged.
func dial(ctx context.Context, cfg IMAPConfig) (*client.Client, error) {
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	tlsConfig := &tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	var c *client.Client
	var err error
	if cfg.Security == SecurityTLS {
		c, err = client.DialWithDialerTLS(dialer, addr, tlsConfig)
	} else {
		c, err = client.DialWithDialer(dialer, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	c.ErrorLog = log.New(io.Discard, "", 0) // errors reach us through the command results
	c.Timeout = cfg.Timeout
	if cfg.Security == SecurityStartTLS {
		if err := c.StartTLS(tlsConfig); err != nil {
			c.Terminate()
			return nil, fmt.Errorf("starttls with %s: %w", addr, err)
		}
	}
	if err := login(ctx, c, cfg); err != nil {
		c.Terminate()
		return nil, fmt.Errorf("sign in to %s: %w", addr, err)
	}
	return c, nil
}

func login(ctx context.Context, c *client.Client, cfg IMAPConfig) error {
	if cfg.Auth != nil {
		caps, err := c.Capability()
		if err != nil {
			return err
		}
		var mechs []string
		for k, ok := range caps {
			if m, found := strings.CutPrefix(strings.ToUpper(k), "AUTH="); ok && found {
				mechs = append(mechs, m)
			}
		}
		slices.Sort(mechs)
		return cfg.Auth.Authenticate(ctx, mechs, func(sc sasl.Client) error { return c.Authenticate(sc) })
	}
	password, err := readPassword(cfg.PasswordFile)
	if err != nil {
		return err
	}
	if err := c.Login(cfg.User, password); err != nil {
		return fmt.Errorf("login as %s: %w", cfg.User, err)
	}
	return nil
}

func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read IMAP password file: %w", err)
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" {
		return "", errors.New("the IMAP password file is empty")
	}
	return p, nil
}

// serverName turns a configured folder name, written with "/" between levels, into the server's
// own hierarchy separator.
func serverName(c *client.Client, name string) (string, error) {
	ch := make(chan *imap.MailboxInfo, 4)
	done := make(chan error, 1)
	go func() { done <- c.List("", "", ch) }()
	delim := ""
	for info := range ch {
		if info.Delimiter != "" {
			delim = info.Delimiter
		}
	}
	if err := <-done; err != nil {
		return "", fmt.Errorf("list hierarchy separator: %w", err)
	}
	if delim == "" || delim == "/" {
		return name, nil
	}
	return strings.ReplaceAll(name, "/", delim), nil
}

// ensureFolder creates the folder when the server does not list it.
func ensureFolder(c *client.Client, name string) error {
	ch := make(chan *imap.MailboxInfo, 4)
	done := make(chan error, 1)
	go func() { done <- c.List("", name, ch) }()
	found := false
	for info := range ch {
		if info.Name == name {
			found = true
		}
	}
	if err := <-done; err != nil {
		return fmt.Errorf("list %s: %w", name, err)
	}
	if found {
		return nil
	}
	if err := c.Create(name); err != nil {
		return fmt.Errorf("create folder %s: %w", name, err)
	}
	return nil
}

// uidExpunge is UID EXPUNGE (RFC 4315, UIDPLUS): it removes only the given messages, not every
// message another client marked \Deleted.
type uidExpunge struct{ set *imap.SeqSet }

func (u uidExpunge) Command() *imap.Command {
	return &imap.Command{Name: "UID EXPUNGE", Arguments: []any{u.set}}
}

// moveMessages moves the messages to dest: MOVE when the server has it, otherwise COPY, STORE
// \Deleted and UID EXPUNGE (plain EXPUNGE only on a server without UIDPLUS).
func moveMessages(c *client.Client, set *imap.SeqSet, dest string) error {
	if ok, err := c.Support("MOVE"); err != nil {
		return err
	} else if ok {
		return c.UidMove(set, dest)
	}
	if err := c.UidCopy(set, dest); err != nil {
		return fmt.Errorf("copy to %s: %w", dest, err)
	}
	if err := c.UidStore(set, imap.FormatFlagsOp(imap.AddFlags, true), []any{imap.DeletedFlag}, nil); err != nil {
		return fmt.Errorf("mark deleted: %w", err)
	}
	if ok, err := c.Support("UIDPLUS"); err != nil {
		return err
	} else if ok {
		status, err := c.Execute(uidExpunge{set}, nil)
		if err != nil {
			return fmt.Errorf("uid expunge: %w", err)
		}
		return status.Err()
	}
	return c.Expunge(nil)
}

// flagMessages marks the messages as processed with ProcessedKeyword.
func flagMessages(c *client.Client, set *imap.SeqSet) error {
	return c.UidStore(set, imap.FormatFlagsOp(imap.AddFlags, true), []any{ProcessedKeyword}, nil)
}

// IMAPConfigFrom builds the IMAP configuration from the [helpdesk] section. For imap_auth =
// "oauth2" the caller sets Auth.
func IMAPConfigFrom(h config.Helpdesk) IMAPConfig {
	return IMAPConfig{
		Host: h.IMAPHost, Port: h.IMAPPort, Security: string(h.IMAPSecurity), User: h.IMAPUser,
		PasswordFile: h.IMAPPasswordFile, Folder: h.IMAPFolder, ProcessedFolder: h.ProcessedFolder,
	}
}
