package mailin

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// TestSyncWithOAuth2 is issue 9's acceptance 1 and 4 with the helpdesk's own syncer: a Dovecot
// that knows no password (passdb oauth2, asking the test's provider), the mailbox signed in with
// OAuth2 through internal/mail's accounts. Mail is ingested before and after the access token
// expires; when the provider revokes the sign-in, ingest stops with the account marked revoked
// (the admin alert) and nothing lost; after a new sign-in it resumes where it stopped, with no
// message twice.
func TestSyncWithOAuth2(t *testing.T) {
	p := oauthtest.New(t)
	p.Set(func(p *oauthtest.Provider) { p.AccessTTL = 4 * time.Second })
	d := p.Dovecot(t)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, mail.Migrations()); err != nil {
		t.Fatal(err)
	}
	accounts := mail.NewAccounts(db, mail.AccountsOptions{DataDir: t.TempDir(), PublicURL: "http://127.0.0.1:8080"})
	account, err := accounts.Add(ctx, mail.AccountConfig{Name: "helpdesk", Uses: []string{"IMAP"}, User: p.Email, Method: mail.MethodOAuth2,
		OAuth2: mail.OAuth2Config{Provider: mail.ProviderGeneric, ClientID: oauthtest.ClientID, AuthURL: p.AuthURL(),
			TokenURL: p.TokenURL(), DeviceURL: p.DeviceURL(), Scopes: []string{"mail", "offline_access"}}})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func() {
		t.Helper()
		if _, err := accounts.DeviceLogin(ctx, "helpdesk", func(dc mail.DeviceCode) { p.ApproveDevice(dc.UserCode) }, nil); err != nil {
			t.Fatal(err)
		}
	}
	signIn()

	cfg := IMAPConfig{
		Host: d.Host, Port: d.Port, Security: SecurityNone, User: p.Email, Auth: account,
		Folder: "INBOX", ProcessedFolder: "Rocca/Elaborati", PollInterval: time.Hour,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := newMemSink()
	s := NewSyncer(cfg, sink, testLogger(), nil)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitStored := func(what string, want int) {
		t.Helper()
		deadline := time.After(90 * time.Second)
		for sink.distinct() < want {
			select {
			case <-sink.stored:
			case <-deadline:
				t.Fatalf("%s: %d stored, want %d (status %+v)", what, sink.distinct(), want, s.Status())
			}
		}
	}

	d.Deliver(p.Email, testMail(1))
	waitStored("first mail", 1)

	// The access token lapses; the next connection signs in with a refreshed one.
	first := p.AccessTokens()[0]
	for {
		if _, ok := p.ValidAccess(first); !ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	refreshes := p.Count("refresh")
	d.Stop()
	d.Start()
	d.Deliver(p.Email, testMail(2))
	waitStored("mail after the token expired", 2)
	if p.Count("refresh") <= refreshes {
		t.Error("the syncer signed in again without a refreshed token")
	}

	// The provider revokes the sign-in (consent withdrawn); the server drops the session.
	p.Set(func(p *oauthtest.Provider) { p.AccessTTL = time.Hour }) // outlive Dovecot's auth penalty
	p.RevokeRefreshTokens()
	p.RevokeAccessTokens()
	d.Stop()
	d.Start()
	d.Deliver(p.Email, testMail(3))
	for {
		st, err := accounts.AccountStatus(ctx, "helpdesk")
		if err != nil {
			t.Fatal(err)
		}
		if st.State == mail.StatusRevoked && strings.Contains(s.Status().LastError, "sign in again") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := sink.distinct(); n != 2 {
		t.Fatalf("%d mails stored while the sign-in was revoked", n)
	}
	var re *rocca.Error
	if err := accounts.Ready(ctx); err == nil || !strings.Contains(err.Error(), "helpdesk: revoked") {
		t.Errorf("Ready = %v", err)
	}
	if err := account.Authenticate(ctx, []string{"XOAUTH2"}, nil); !errors.As(err, &re) || re.Key != "mail.account.error.revoked" {
		t.Errorf("Authenticate = %v", err)
	}
	// The syncer keeps retrying with its backoff, but the provider is not asked again.
	revokedRefreshes := p.Count("refresh")
	time.Sleep(time.Second) // let a few reconnect attempts happen
	if got := p.Count("refresh"); got != revokedRefreshes {
		t.Errorf("refreshes went from %d to %d with a revoked sign-in", revokedRefreshes, got)
	}

	signIn()
	waitStored("mail after signing in again", 3)
	sink.mu.Lock()
	got := slices.Clone(sink.order)
	sink.mu.Unlock()
	if !slices.Equal(got, []string{"prova-1@comune.example.it", "prova-2@comune.example.it", "prova-3@comune.example.it"}) {
		t.Errorf("stored %v", got)
	}
	if err := accounts.Ready(ctx); err != nil {
		t.Errorf("Ready after signing in again: %v", err)
	}
}
