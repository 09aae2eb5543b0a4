package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
)

// KeyFileName is the file in the data dir holding the key that encrypts stored refresh tokens. It
// is outside keys/ on purpose: backups archive keys/ and tls/, so a backup holds the encrypted
// refresh tokens without the key, and a restored server needs a new sign-in (or the key copied by
// hand).
const KeyFileName = "oauth.key"

// CallbackPath is where the provider sends the admin back after signing in on the web.
const CallbackPath = "/admin/mail/callback"

// keepFreshEvery is how often Run makes sure every signed-in account still has a usable token, so a
// revoked sign-in raises its alert even while nobody sends or fetches mail.
const keepFreshEvery = time.Minute

// AccountsOptions configures Accounts.
type AccountsOptions struct {
	DataDir    string           // the key file is <DataDir>/oauth.key
	PublicURL  string           // web sign-ins return to <PublicURL>/admin/mail/callback
	HTTPClient *http.Client     // talks to the providers; nil: a client with a 30 s timeout
	Now        func() time.Time // nil: time.Now
	Logger     *slog.Logger     // nil: discard
}

// Accounts owns the mail logins (table mail_accounts): their sign-in with OAuth2 from the web page
// or the device grant, the encrypted refresh tokens, fresh access tokens, and the alert, readiness
// check and metrics when a provider refuses a stored sign-in for good.
type Accounts struct {
	db        *sqlite.DB
	logger    *slog.Logger
	now       func() time.Time
	http      *http.Client
	publicURL string
	key       sealKey
	metrics   *accountMetrics

	mu       sync.Mutex
	accounts []*Account
	pending  map[string]pendingSignIn  // web sign-ins waiting for the callback, by state
	devices  map[string]*deviceAttempt // device sign-ins in progress, by id
	runCtx   context.Context           // set while Run runs: the owner of device polling
	wg       sync.WaitGroup            // device polling goroutines
	pages    *web.Renderer             // the admin page; set by Routes
	cat      *i18n.Catalog
}

// NewAccounts returns the service over db (migrated with Migrations).
func NewAccounts(db *sqlite.DB, opts AccountsOptions) *Accounts {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Accounts{
		db: db, logger: opts.Logger.With("part", "mail"), now: opts.Now, http: opts.HTTPClient,
		publicURL: strings.TrimRight(opts.PublicURL, "/"),
		key:       sealKey{path: filepath.Join(opts.DataDir, KeyFileName)},
		metrics:   newAccountMetrics(),
		pending:   map[string]pendingSignIn{},
		devices:   map[string]*deviceAttempt{},
	}
}

var accountName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Add registers a configured account and returns it; it checks the configuration without touching
// the network.
func (s *Accounts) Add(ctx context.Context, cfg AccountConfig) (*Account, error) {
	if !accountName.MatchString(cfg.Name) {
		return nil, fmt.Errorf("mail account name %q: want lower-case letters, digits, - or _", cfg.Name)
	}
	a := &Account{s: s, cfg: cfg}
	switch cfg.Method {
	case MethodPassword:
		if cfg.User != "" && cfg.PasswordFile == "" {
			return nil, rocca.Localized(rocca.EINVALID, "mail.account.error.no_password_file",
				"the mail account "+cfg.Name+" has a user but no password file", cfg.Name)
		}
	case MethodOAuth2:
		p, err := ProviderFor(cfg.OAuth2)
		if err != nil {
			return nil, err
		}
		a.provider = p
	default:
		return nil, rocca.Localized(rocca.EINVALID, "mail.account.error.method",
			"the sign-in method must be password or oauth2", cfg.Method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.ContainsFunc(s.accounts, func(o *Account) bool { return o.cfg.Name == cfg.Name }) {
		return nil, fmt.Errorf("mail account %s added twice", cfg.Name)
	}
	if err := s.ensureRow(ctx, cfg.Name, cfg.Method); err != nil {
		return nil, fmt.Errorf("mail account %s: %w", cfg.Name, err)
	}
	s.accounts = append(s.accounts, a)
	return a, nil
}

// Account returns the account called name, or nil.
func (s *Accounts) Account(name string) *Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if a.cfg.Name == name {
			return a
		}
	}
	return nil
}

func (s *Accounts) all() []*Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accounts)
}

// oauthAccount returns the OAuth2 account called name, or a user error.
func (s *Accounts) oauthAccount(name string) (*Account, error) {
	a := s.Account(name)
	if a == nil {
		return nil, rocca.Localized(rocca.ENOTFOUND, "mail.account.error.unknown", "there is no mail account "+name, name)
	}
	if a.cfg.Method != MethodOAuth2 {
		return nil, rocca.Localized(rocca.EINVALID, "mail.account.error.not_oauth",
			"the mail account "+name+" signs in with a password, not OAuth2", name)
	}
	return a, nil
}

func (s *Accounts) redirectURL() string { return s.publicURL + CallbackPath }

// clientContext makes golang.org/x/oauth2 use our HTTP client.
func (s *Accounts) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.http)
}

// recordLogin keeps the outcome of a login for the status. Errors about the account's own state
// (not signed in, revoked) are not recorded: they would hide the provider's original reason.
func (s *Accounts) recordLogin(ctx context.Context, name string, loginErr error) {
	var re *rocca.Error
	if errors.As(loginErr, &re) && strings.HasPrefix(re.Key, "mail.account.error.") {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.saveLogin(rctx, name, loginErr); err != nil {
		s.logger.Warn("record mail login", "account", name, "err", err)
	}
}

// Disconnect forgets the stored sign-in of an OAuth2 account.
func (s *Accounts) Disconnect(ctx context.Context, name string) error {
	a, err := s.oauthAccount(name)
	if err != nil {
		return err
	}
	if err := a.disconnect(ctx); err != nil {
		return fmt.Errorf("mail account %s: %w", name, err)
	}
	s.logger.Info("mail account signed out", "account", name)
	return nil
}

// Run keeps the stored sign-ins checked (every minute, and at once at start) and owns the device
// sign-ins started from the admin socket. It returns nil when ctx ends, after those have stopped.
func (s *Accounts) Run(ctx context.Context) error {
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.runCtx = nil
		s.mu.Unlock()
		s.wg.Wait()
	}()
	t := time.NewTicker(keepFreshEvery)
	defer t.Stop()
	for {
		s.keepFresh(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// keepFresh refreshes the access token of each signed-in account that needs it; a refusal for
// good turns into the revoked state here rather than at the next login.
func (s *Accounts) keepFresh(ctx context.Context) {
	for _, a := range s.all() {
		if a.cfg.Method != MethodOAuth2 {
			continue
		}
		row, err := s.loadRow(ctx, a.cfg.Name)
		if err != nil || a.usable(row) != nil {
			continue
		}
		a.token(ctx, "") // errors are logged and recorded by token
	}
}
