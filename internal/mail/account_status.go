package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
)

// The states of AccountStatus.
const (
	StatusReady        = "ready"         // a password account, or an OAuth2 account with a usable sign-in
	StatusNotConnected = "not_connected" // OAuth2: nobody signed in yet (or the sign-in cannot be read)
	StatusRevoked      = "revoked"       // OAuth2: the provider refused the stored sign-in for good
)

// AccountStatus is what `rocca mail status` and the admin page show about one account. It holds no
// secret.
type AccountStatus struct {
	Name         string     `json:"name"`
	Uses         []string   `json:"uses"`
	Method       string     `json:"method"`
	User         string     `json:"user"`
	Provider     string     `json:"provider,omitempty"`
	State        string     `json:"state"`
	Problem      string     `json:"problem,omitempty"`     // why it is not ready, in English
	ProblemKey   string     `json:"problem_key,omitempty"` // the same as a catalog key
	ProblemArgs  []any      `json:"problem_args,omitempty"`
	SignedInAs   string     `json:"signed_in_as,omitempty"`
	Scopes       []string   `json:"scopes,omitempty"`
	ConnectedAt  *time.Time `json:"connected_at,omitempty"`
	TokenExpires *time.Time `json:"token_expires,omitempty"` // of the last access token
	LastRefresh  *time.Time `json:"last_refresh,omitempty"`
	LastLogin    *time.Time `json:"last_login,omitempty"` // last successful IMAP/SMTP login
	LastError    string     `json:"last_error,omitempty"`
	Hint         string     `json:"hint,omitempty"` // the usual fix for LastError, as a catalog key
	LastErrorAt  *time.Time `json:"last_error_at,omitempty"`
	DeviceGrant  bool       `json:"device_grant"` // `rocca mail login` works for its provider
}

// Status returns the status of every account, in the order they were added.
func (s *Accounts) Status(ctx context.Context) ([]AccountStatus, error) {
	var out []AccountStatus
	for _, a := range s.all() {
		st, err := s.status(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// AccountStatus returns the status of the account called name.
func (s *Accounts) AccountStatus(ctx context.Context, name string) (AccountStatus, error) {
	a := s.Account(name)
	if a == nil {
		return AccountStatus{}, rocca.Localized(rocca.ENOTFOUND, "mail.account.error.unknown", "there is no mail account "+name, name)
	}
	return s.status(ctx, a)
}

func (s *Accounts) status(ctx context.Context, a *Account) (AccountStatus, error) {
	row, err := s.loadRow(ctx, a.cfg.Name)
	if err != nil {
		return AccountStatus{}, fmt.Errorf("mail account %s: %w", a.cfg.Name, err)
	}
	st := AccountStatus{
		Name: a.cfg.Name, Uses: a.cfg.Uses, Method: a.cfg.Method, User: a.cfg.User, State: StatusReady,
		LastLogin: timePtr(row.lastLoginAt), LastError: row.lastError, LastErrorAt: timePtr(row.lastErrorAt),
	}
	if row.lastError != "" {
		st.Hint = Hint(a.cfg.Method, row.lastError)
	}
	if st.Uses == nil {
		st.Uses = []string{}
	}
	if a.cfg.Method != MethodOAuth2 {
		return st, nil
	}
	st.Provider, st.DeviceGrant = a.cfg.OAuth2.Provider, a.provider.DeviceGrant
	problem := a.usable(row)
	if problem == nil {
		// The sign-in is stored; can it be read with the key on disk?
		if _, err := s.key.open(a.cfg.Name, row.refreshSealed); errors.Is(err, errKeyMissing) {
			problem = errKeyLost(a.cfg.Name)
		}
	}
	if problem != nil {
		st.State = StatusNotConnected
		if row.state == rowRevoked {
			st.State = StatusRevoked
		}
		var re *rocca.Error
		if errors.As(problem, &re) {
			st.Problem, st.ProblemKey, st.ProblemArgs = re.Message, re.Key, re.Args
		}
	}
	if row.state == rowConnected {
		st.SignedInAs = row.identity
		st.Scopes = strings.Fields(row.scopes)
		st.ConnectedAt, st.TokenExpires, st.LastRefresh = timePtr(row.connectedAt), timePtr(row.tokenExpiresAt), timePtr(row.lastRefreshAt)
	}
	return st, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Ready is the readiness check of the mail accounts (for /readyz): it fails while an OAuth2
// account is not signed in or its sign-in was revoked, naming the account and what to do.
func (s *Accounts) Ready(ctx context.Context) error {
	sts, err := s.Status(ctx)
	if err != nil {
		return err
	}
	var problems []string
	for _, st := range sts {
		if st.State != StatusReady {
			problems = append(problems, st.Name+": "+st.State+" ("+st.Problem+")")
		}
	}
	if len(problems) > 0 {
		return errors.New("mail accounts need a sign-in: " + strings.Join(problems, "; "))
	}
	return nil
}
