package mail

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/rocca-pa/rocca"
)

// signInTTL is how long a started web sign-in waits for the provider's callback.
const signInTTL = 10 * time.Minute

// maxPendingSignIns bounds the started sign-ins kept in memory.
const maxPendingSignIns = 64

// pendingSignIn is a web sign-in between the redirect to the provider and the callback. It lives
// only in memory, on the server: the state parameter is its key, the PKCE verifier never leaves.
type pendingSignIn struct {
	account  string
	verifier string
	userID   int64 // the admin who started it; only they may finish it
	expires  time.Time
}

// accountConnect is POST /admin/mail/{name}/connect: it starts an authorization code sign-in with
// PKCE (S256) and a single-use state, and sends the admin to the provider.
func (s *Accounts) accountConnect(w http.ResponseWriter, r *http.Request) {
	pages := s.renderer(w)
	if pages == nil {
		return
	}
	a, err := s.oauthAccount(r.PathValue("name"))
	if err != nil {
		pages.Error(w, r, err)
		return
	}
	if s.publicURL == "" {
		pages.Error(w, r, rocca.Localized(rocca.EINVALID, "mail.signin.no_public_url", "set [server] public_url: the provider must know where to send you back"))
		return
	}
	cfg, err := a.oauth2Config()
	if err != nil {
		pages.Error(w, r, err)
		return
	}
	state, verifier := randomToken(), oauth2.GenerateVerifier()
	var userID int64
	if u := rocca.UserFromContext(r.Context()); u != nil {
		userID = u.ID
	}
	s.mu.Lock()
	s.prunePending()
	if len(s.pending) >= maxPendingSignIns {
		s.mu.Unlock()
		pages.Error(w, r, rocca.Localized(rocca.ERATELIMIT, "mail.signin.too_many", "too many sign-ins started: wait a few minutes"))
		return
	}
	s.pending[state] = pendingSignIn{account: a.cfg.Name, verifier: verifier, userID: userID, expires: s.now().Add(signInTTL)}
	s.mu.Unlock()

	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if a.cfg.User != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", a.cfg.User))
	}
	for k, v := range a.provider.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	s.logger.Info("mail account web sign-in started", "account", a.cfg.Name)
	http.Redirect(w, r, cfg.AuthCodeURL(state, opts...), http.StatusSeeOther)
}

// prunePending drops expired sign-ins. Callers hold s.mu.
func (s *Accounts) prunePending() {
	now := s.now()
	for k, p := range s.pending {
		if now.After(p.expires) {
			delete(s.pending, k)
		}
	}
}

// takePending removes and returns the sign-in started with state: each state works once.
func (s *Accounts) takePending(state string) (pendingSignIn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[state]
	delete(s.pending, state)
	if !ok || s.now().After(p.expires) {
		return pendingSignIn{}, false
	}
	return p, true
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
