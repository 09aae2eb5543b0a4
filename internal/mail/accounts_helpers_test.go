package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// accountsEnv is a fake provider, a database, the Accounts service with one OAuth2 account
// ("helpdesk", generic provider pointing at the fake) and its admin routes on a test server.
type accountsEnv struct {
	t        *testing.T
	p        *oauthtest.Provider
	dir      string
	db       *sqlite.DB
	s        *Accounts
	acct     *Account
	logs     *syncBuffer
	web      *httptest.Server
	clock    *shiftClock
	adminID  int64 // the admin the test routes sign in
	adminMux *http.ServeMux
}

// shiftClock is the real time plus an offset the test can move, so token lifetimes stay real at
// the provider while Rocca can be made to believe time has passed.
type shiftClock struct {
	mu  sync.Mutex
	off int64
}

func (c *shiftClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(time.Duration(c.off))
}

func (c *shiftClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += int64(d)
}

func genericConfig(p *oauthtest.Provider) OAuth2Config {
	return OAuth2Config{
		Provider: ProviderGeneric, ClientID: oauthtest.ClientID,
		AuthURL: p.AuthURL(), TokenURL: p.TokenURL(), DeviceURL: p.DeviceURL(),
		Scopes: []string{"mail", "offline_access"},
	}
}

func newAccountsEnv(t *testing.T) *accountsEnv {
	t.Helper()
	e := &accountsEnv{t: t, p: oauthtest.New(t), dir: t.TempDir(), logs: &syncBuffer{}, clock: &shiftClock{}, adminID: 1}
	e.db = openDB(t, filepath.Join(e.dir, "rocca.db"))
	mux := http.NewServeMux()
	e.web = httptest.NewServer(mux)
	t.Cleanup(e.web.Close)
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.s = NewAccounts(e.db, AccountsOptions{DataDir: e.dir, PublicURL: e.web.URL, Logger: logger, Now: e.clock.Now})
	var err error
	e.acct, err = e.s.Add(context.Background(), AccountConfig{
		Name: "helpdesk", Uses: []string{"IMAP", "SMTP"}, User: e.p.Email, Method: MethodOAuth2, OAuth2: genericConfig(e.p),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.s.Routes(mux, func(rocca.Role) func(http.Handler) http.Handler { return e.asAdmin })
	return e
}

// asAdmin signs in the admin e.adminID, standing in for auth.Require(rocca.RoleAdmin).
func (e *accountsEnv) asAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := &rocca.User{ID: e.adminID, Email: "it@comune.example.it", Name: "Ufficio IT", Role: rocca.RoleAdmin}
		next.ServeHTTP(w, r.WithContext(rocca.NewContextWithUser(r.Context(), u)))
	})
}

// client follows no redirects, so the test sees each hop.
func (e *accountsEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type hop struct {
	status   int
	location string
	body     string
}

func (e *accountsEnv) do(c *http.Client, method, u string, form url.Values) hop {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return hop{status: res.StatusCode, location: res.Header.Get("Location"), body: string(b)}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// startSignIn presses "Connetti" and returns the provider's consent page URL.
func (e *accountsEnv) startSignIn(c *http.Client) string {
	e.t.Helper()
	h := e.do(c, "POST", e.web.URL+"/admin/mail/helpdesk/connect", url.Values{})
	if h.status != http.StatusSeeOther || !strings.HasPrefix(h.location, e.p.AuthURL()) {
		e.t.Fatalf("connect = %d %q, want a redirect to the provider", h.status, h.location)
	}
	return h.location
}

// consent answers the provider's consent page and returns the callback URL it redirects to.
func (e *accountsEnv) consent(c *http.Client, authorizeURL, decision string) string {
	e.t.Helper()
	page := e.do(c, "GET", authorizeURL, nil)
	if page.status != http.StatusOK {
		e.t.Fatalf("consent page = %d %s", page.status, page.body)
	}
	form := url.Values{"decision": {decision}}
	for _, m := range hiddenInput.FindAllStringSubmatch(page.body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	h := e.do(c, "POST", e.p.AuthURL(), form)
	if h.status != http.StatusFound || !strings.HasPrefix(h.location, e.web.URL+CallbackPath) {
		e.t.Fatalf("consent = %d %q, want a redirect to the callback", h.status, h.location)
	}
	return h.location
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// signIn runs the whole web sign-in and checks it lands on the page with the confirmation.
func (e *accountsEnv) signIn() {
	e.t.Helper()
	c := e.client()
	cb := e.consent(c, e.startSignIn(c), "allow")
	h := e.do(c, "GET", cb, nil)
	if h.status != http.StatusSeeOther || h.location != "/admin/mail?connected=helpdesk" {
		e.t.Fatalf("callback = %d %q\n%s", h.status, h.location, h.body)
	}
}

// tokenOf extracts the bearer token from the initial response of an XOAUTH2 or OAUTHBEARER client.
func tokenOf(t testing.TB, c sasl.Client) (mech, user, token string) {
	t.Helper()
	mech, ir, err := c.Start()
	if err != nil {
		t.Fatal(err)
	}
	s := string(ir)
	switch mech {
	case MechXOAuth2:
		user = strings.TrimPrefix(strings.Split(s, "\x01")[0], "user=")
	case MechOAuthBearer:
		user = strings.TrimSuffix(strings.TrimPrefix(strings.Split(s, "\x01")[0], "n,a="), ",")
	}
	_, after, _ := strings.Cut(s, "auth=Bearer ")
	token, _, _ = strings.Cut(after, "\x01")
	return mech, user, token
}

// fakeServer is the do of Authenticate for a server that checks the token with the provider.
func fakeServer(t testing.TB, p *oauthtest.Provider, used *[]string) func(sasl.Client) error {
	return func(c sasl.Client) error {
		_, user, token := tokenOf(t, c)
		*used = append(*used, token)
		if email, ok := p.ValidAccess(token); !ok || email != user {
			// What a server does: an error challenge, then NO.
			c.Next([]byte(`{"status":"401","schemes":"bearer"}`))
			return errors.New("NO [AUTHENTICATIONFAILED] AUTHENTICATE failed")
		}
		return nil
	}
}
