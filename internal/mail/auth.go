package mail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emersion/go-sasl"
)

// Auth proves who Rocca is to a mail server (IMAP or SMTP), whatever the account's method: a
// password read from its file, or an OAuth2 access token kept fresh by Accounts. The callers
// (the SMTP sender here, the helpdesk's IMAP client) do not know which.
//
// Authenticate gets a SASL client for one of mechs (the mechanisms the server offers) and runs
// do with it; do is the protocol's own command, e.g. go-imap's (*client.Client).Authenticate or
// go-smtp's (*smtp.Client).Auth. An OAuth2 account whose token the server refuses gets a fresh
// token and tries once more on the same connection, so a token revoked before its expiry costs no
// reconnect.
type Auth interface {
	Authenticate(ctx context.Context, mechs []string, do func(sasl.Client) error) error
}

// PasswordAuth logs in with a user name and the password in a file, read at every login so that
// a rotated password needs no restart. It never logs or returns the password.
type PasswordAuth struct {
	User         string
	PasswordFile string
}

// SASL returns a PLAIN client (LOGIN for servers that offer only that).
func (p PasswordAuth) SASL(_ context.Context, mechs []string) (sasl.Client, error) {
	mech, ok := passwordMechanism(mechs)
	if !ok {
		return nil, fmt.Errorf("%w: need PLAIN or LOGIN, the server offers %s", ErrNoMechanism, mechList(mechs))
	}
	password, err := readSecret(p.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("password: %w", err)
	}
	if mech == MechLogin {
		return sasl.NewLoginClient(p.User, password), nil
	}
	return sasl.NewPlainClient("", p.User, password), nil
}

// Authenticate implements Auth.
func (p PasswordAuth) Authenticate(ctx context.Context, mechs []string, do func(sasl.Client) error) error {
	c, err := p.SASL(ctx, mechs)
	if err != nil {
		return err
	}
	if err := do(c); err != nil {
		return fmt.Errorf("login as %s: %w", p.User, err)
	}
	return nil
}

// readSecret reads a one-line secret file, without its line ending.
func readSecret(path string) (string, error) {
	if path == "" {
		return "", errors.New("no file configured")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

func mechList(mechs []string) string {
	if len(mechs) == 0 {
		return "none"
	}
	return strings.Join(mechs, " ")
}
