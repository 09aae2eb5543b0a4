package mail

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"

	"github.com/rocca-pa/rocca"
)

// The sign-in methods of an account.
const (
	MethodPassword = "password" // a password read from a 0600 file
	MethodOAuth2   = "oauth2"   // OAuth2 with a refresh token kept by Accounts
)

// AccountConfig configures one mail login. cmd/rocca builds it from [helpdesk] (name "helpdesk",
// IMAP) and [mail] (name "smtp", SMTP); with [mail] smtp_auth = "helpdesk" the SMTP sender uses
// the helpdesk account itself.
type AccountConfig struct {
	Name         string   // "helpdesk" or "smtp": the row in mail_accounts and the id in URLs and the CLI
	Uses         []string // what it logs in to, shown to admins: "IMAP", "SMTP"
	User         string   // the mailbox to log in as; OAuth2 with "" uses the mailbox that signed in
	Method       string   // password | oauth2
	PasswordFile string   // password: the 0600 file holding it
	OAuth2       OAuth2Config
}

// Account is one configured mail login. It implements Auth for any method; for OAuth2 it keeps
// the access token in memory only, refreshing it before it expires and when a server refuses it.
type Account struct {
	s        *Accounts
	cfg      AccountConfig
	provider Provider // OAuth2 only

	mu       sync.Mutex // serialises refreshes and sign-ins
	tok      *oauth2.Token
	obtained time.Time
	identity string // the mailbox that signed in
}

// Name returns the account's name.
func (a *Account) Name() string { return a.cfg.Name }

// Method returns MethodPassword or MethodOAuth2.
func (a *Account) Method() string { return a.cfg.Method }

// Provider returns the OAuth2 provider (the zero Provider for password accounts).
func (a *Account) Provider() Provider { return a.provider }

// Authenticate implements Auth. The outcome is recorded for `rocca mail status` and the admin
// page; errors name the account but never hold a password or a token.
func (a *Account) Authenticate(ctx context.Context, mechs []string, do func(sasl.Client) error) error {
	err := a.authenticate(ctx, mechs, do)
	a.s.recordLogin(ctx, a.cfg.Name, err)
	return err
}

func (a *Account) authenticate(ctx context.Context, mechs []string, do func(sasl.Client) error) error {
	if a.cfg.Method == MethodPassword {
		return PasswordAuth{User: a.cfg.User, PasswordFile: a.cfg.PasswordFile}.Authenticate(ctx, mechs, do)
	}
	mech, ok := oauthMechanism(mechs)
	if !ok {
		return fmt.Errorf("%w: need %s or %s, the server offers %s", ErrNoMechanism, MechOAuthBearer, MechXOAuth2, mechList(mechs))
	}
	token, err := a.token(ctx, "")
	if err != nil {
		return err
	}
	err = do(a.bearer(mech, token))
	if err == nil {
		return nil
	}
	// The server may know the token is revoked before its expiry: get a new one and try again once.
	fresh, rerr := a.token(ctx, token)
	if rerr != nil {
		return fmt.Errorf("login as %s with %s: %w (and no new access token: %w)", a.user(), mech, err, rerr)
	}
	if err := do(a.bearer(mech, fresh)); err != nil {
		return fmt.Errorf("login as %s with %s: %w", a.user(), mech, err)
	}
	return nil
}

// SASL returns a client for one of mechs without the retry of Authenticate: for a password
// account PLAIN or LOGIN, for an OAuth2 account OAUTHBEARER or XOAUTH2 with a fresh access token.
func (a *Account) SASL(ctx context.Context, mechs []string) (sasl.Client, error) {
	if a.cfg.Method == MethodPassword {
		return PasswordAuth{User: a.cfg.User, PasswordFile: a.cfg.PasswordFile}.SASL(ctx, mechs)
	}
	mech, ok := oauthMechanism(mechs)
	if !ok {
		return nil, fmt.Errorf("%w: need %s or %s, the server offers %s", ErrNoMechanism, MechOAuthBearer, MechXOAuth2, mechList(mechs))
	}
	token, err := a.token(ctx, "")
	if err != nil {
		return nil, err
	}
	return a.bearer(mech, token), nil
}

func (a *Account) bearer(mech, token string) sasl.Client {
	if mech == MechXOAuth2 {
		return NewXOAuth2Client(a.user(), token)
	}
	return NewOAuthBearerClient(a.user(), token)
}

// user is the login name: the configured mailbox, or the one that signed in.
func (a *Account) user() string {
	if a.cfg.User != "" {
		return a.cfg.User
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.identity
}

// token returns an access token that is not about to expire. failed names a token a server has
// just refused: unless another login already replaced it, it is refreshed even if not expired.
func (a *Account) token(ctx context.Context, failed string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.s.now()
	if a.tok != nil && (failed == "" || a.tok.AccessToken != failed) && a.fresh(now) {
		return a.tok.AccessToken, nil
	}
	row, err := a.s.loadRow(ctx, a.cfg.Name)
	if err != nil {
		return "", fmt.Errorf("mail account %s: %w", a.cfg.Name, err)
	}
	if err := a.usable(row); err != nil {
		a.tok = nil
		return "", err
	}
	a.identity = row.identity
	refresh, err := a.s.key.open(a.cfg.Name, row.refreshSealed)
	if err != nil {
		a.tok = nil
		if errors.Is(err, errKeyMissing) {
			return "", errKeyLost(a.cfg.Name)
		}
		return "", err
	}
	cfg, err := a.oauth2Config()
	if err != nil {
		return "", err
	}
	tok, err := cfg.TokenSource(a.s.clientContext(ctx), &oauth2.Token{RefreshToken: refresh}).Token()
	if err != nil {
		return "", a.refreshFailed(ctx, row, err)
	}
	var sealed []byte
	if tok.RefreshToken != "" && tok.RefreshToken != refresh {
		// The provider rotated the refresh token: the old one stops working, keep the new one.
		if sealed, err = a.s.key.seal(a.cfg.Name, tok.RefreshToken); err != nil {
			return "", err
		}
	}
	if err := a.s.saveRefreshed(ctx, a.cfg.Name, row.refreshSealed, sealed, tok.Expiry); err != nil {
		return "", fmt.Errorf("mail account %s: record refresh: %w", a.cfg.Name, err)
	}
	a.tok, a.obtained = tok, now
	a.s.metrics.refreshed(a.cfg.Name, "ok")
	a.s.logger.Info("mail access token refreshed", "account", a.cfg.Name, "expires", tok.Expiry)
	return tok.AccessToken, nil
}

// usable says why a stored sign-in cannot be used, or nil.
func (a *Account) usable(row *accountRow) error {
	switch {
	case row.state == rowRevoked:
		return errRevoked(a.cfg.Name, row.lastError)
	case row.state != rowConnected || len(row.refreshSealed) == 0:
		return errNotConnected(a.cfg.Name)
	case row.provider != a.cfg.OAuth2.Provider || row.clientID != a.cfg.OAuth2.ClientID:
		return rocca.Localized(rocca.EUNAVAILABLE, "mail.account.error.changed",
			"the mail account "+a.cfg.Name+" was signed in with another provider or application: sign in again", a.cfg.Name)
	}
	return nil
}

// fresh reports whether the cached access token can still be used: it expires later than a
// margin of a quarter of its lifetime (at most 5 minutes), so a login never starts with a token
// about to lapse.
func (a *Account) fresh(now time.Time) bool {
	if a.tok.Expiry.IsZero() {
		return true
	}
	margin := min(5*time.Minute, a.tok.Expiry.Sub(a.obtained)/4)
	return now.Before(a.tok.Expiry.Add(-margin))
}

// permanentRefreshErrors are the token endpoint's answers after which the stored refresh token
// can never work again: consent revoked, password changed, token expired (invalid_grant), or the
// application's secret expired or the application removed (invalid_client, unauthorized_client).
var permanentRefreshErrors = []string{"invalid_grant", "invalid_client", "unauthorized_client"}

// refreshFailed records a failed refresh. A permanent refusal marks the account revoked (an
// alert for the admins, a failing readiness check, a metric); anything else is temporary and
// the callers simply try again later with what they have.
func (a *Account) refreshFailed(ctx context.Context, row *accountRow, err error) error {
	a.tok = nil
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && slices.Contains(permanentRefreshErrors, re.ErrorCode) {
		reason := strings.TrimSpace(re.ErrorCode + " " + re.ErrorDescription)
		if serr := a.s.saveRevoked(ctx, a.cfg.Name, row.refreshSealed, reason); serr != nil {
			a.s.logger.Error("record revoked mail sign-in", "account", a.cfg.Name, "err", serr)
		}
		a.s.metrics.refreshed(a.cfg.Name, "revoked")
		a.s.logger.Error("the mail provider refused the stored sign-in for good: an administrator must sign in again at /admin/mail or with `rocca mail login`",
			"account", a.cfg.Name, "provider", a.cfg.OAuth2.Provider, "error", re.ErrorCode, "description", re.ErrorDescription)
		return errRevoked(a.cfg.Name, reason)
	}
	a.s.metrics.refreshed(a.cfg.Name, "error")
	err = fmt.Errorf("mail account %s: refresh the access token: %w", a.cfg.Name, err)
	a.s.logger.Warn("mail access token refresh failed; will try again", "account", a.cfg.Name, "err", err)
	return err
}

// connect stores a new sign-in (from the web page or the device grant) and keeps its access token.
func (a *Account) connect(ctx context.Context, tok *oauth2.Token) error {
	if tok.RefreshToken == "" {
		return rocca.Localized(rocca.EUNAVAILABLE, "mail.oauth.error.no_refresh",
			"the provider gave no refresh token: check that offline access (offline_access) is allowed", a.cfg.Name)
	}
	sealed, err := a.s.key.seal(a.cfg.Name, tok.RefreshToken)
	if err != nil {
		return fmt.Errorf("mail account %s: %w", a.cfg.Name, err)
	}
	now := a.s.now()
	row := &accountRow{
		name: a.cfg.Name, provider: a.cfg.OAuth2.Provider, clientID: a.cfg.OAuth2.ClientID,
		identity: identityOf(tok), scopes: strings.Join(grantedScopes(tok, a.provider.Scopes), " "),
		refreshSealed: sealed, connectedAt: now, tokenExpiresAt: tok.Expiry, lastRefreshAt: now,
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.s.saveConnected(ctx, row); err != nil {
		return fmt.Errorf("mail account %s: store sign-in: %w", a.cfg.Name, err)
	}
	a.tok, a.obtained, a.identity = tok, now, row.identity
	a.s.metrics.refreshed(a.cfg.Name, "signin")
	a.s.logger.Info("mail account signed in", "account", a.cfg.Name, "mailbox", row.identity, "scopes", row.scopes)
	return nil
}

// disconnect forgets the stored sign-in.
func (a *Account) disconnect(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tok = nil
	return a.s.saveDisconnected(ctx, a.cfg.Name)
}

// oauth2Config builds the client configuration; the client secret is read from its file each time.
func (a *Account) oauth2Config() (*oauth2.Config, error) {
	secret := ""
	if f := a.cfg.OAuth2.ClientSecretFile; f != "" {
		var err error
		if secret, err = readSecret(f); err != nil {
			return nil, rocca.Localized(rocca.EUNAVAILABLE, "mail.oauth.error.secret_file",
				"cannot read the OAuth2 client secret file "+f, f)
		}
	}
	return &oauth2.Config{
		ClientID: a.cfg.OAuth2.ClientID, ClientSecret: secret, Endpoint: a.provider.Endpoint,
		Scopes: a.provider.Scopes, RedirectURL: a.s.redirectURL(),
	}, nil
}

// identityOf reads the mailbox from the ID token that came with tok. The ID token is not verified:
// it came straight from the token endpoint over TLS, which OpenID Connect accepts in place of the
// signature (Core 1.0 section 3.1.3.7), and it is only shown to admins, never trusted for access.
func identityOf(tok *oauth2.Token) string {
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Email             string `json:"email"`
		PreferredUsername string `json:"preferred_username"`
		UPN               string `json:"upn"`
	}
	if json.Unmarshal(body, &claims) != nil {
		return ""
	}
	for _, v := range []string{claims.Email, claims.PreferredUsername, claims.UPN} {
		if strings.Contains(v, "@") && len(v) <= 254 {
			return v
		}
	}
	return ""
}

// grantedScopes are the scopes the provider granted (RFC 6749 section 5.1), or those asked for
// when the answer does not list them.
func grantedScopes(tok *oauth2.Token, asked []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		return strings.Fields(s)
	}
	return asked
}

func errNotConnected(name string) error {
	return rocca.Localized(rocca.EUNAVAILABLE, "mail.account.error.not_connected",
		"the mail account "+name+" is not signed in: sign in at /admin/mail or with `rocca mail login`", name)
}

func errRevoked(name, reason string) error {
	return rocca.Localized(rocca.EUNAVAILABLE, "mail.account.error.revoked",
		"the provider refused the sign-in of the mail account "+name+" ("+reason+"): sign in again at /admin/mail or with `rocca mail login`",
		name, reason)
}

func errKeyLost(name string) error {
	return rocca.Localized(rocca.EUNAVAILABLE, "mail.account.error.key_lost",
		"the sign-in of the mail account "+name+" cannot be read (the key file oauth.key is missing or different, e.g. after a restore): sign in again",
		name)
}
