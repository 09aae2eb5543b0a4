package mail

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
)

func TestWebSignInStoresOnlyAnEncryptedRefreshToken(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	st, _ := e.s.AccountStatus(ctx, "helpdesk")
	if st.State != StatusNotConnected || st.ProblemKey != "mail.account.error.not_connected" {
		t.Fatalf("before sign-in: %+v", st)
	}
	if err := e.s.Ready(ctx); err == nil {
		t.Error("ready while the OAuth2 account is not signed in")
	}
	e.signIn()

	st, err := e.s.AccountStatus(ctx, "helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StatusReady || st.SignedInAs != e.p.Email || !slices.Equal(st.Scopes, []string{"mail", "offline_access"}) ||
		st.ConnectedAt == nil || st.TokenExpires == nil {
		t.Fatalf("after sign-in: %+v", st)
	}
	if err := e.s.Ready(ctx); err != nil {
		t.Errorf("not ready after sign-in: %v", err)
	}
	rts := e.p.RefreshTokens()
	if len(rts) != 1 {
		t.Fatalf("provider issued %d refresh tokens", len(rts))
	}
	var sealed []byte
	if err := e.db.QueryRowContext(ctx, `SELECT refresh_sealed FROM mail_accounts WHERE name = 'helpdesk'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(sealed, []byte(rts[0])) {
		t.Errorf("refresh token stored in clear or not at all: %q", sealed)
	}
	key := filepath.Join(e.dir, KeyFileName)
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != keySize {
		t.Errorf("key file %s: mode %v size %d", key, fi.Mode().Perm(), fi.Size())
	}
	// The access token from the sign-in is used as is: no refresh needed.
	var used []string
	if err := e.acct.Authenticate(ctx, []string{"PLAIN", "XOAUTH2"}, fakeServer(t, e.p, &used)); err != nil {
		t.Fatal(err)
	}
	if n := e.p.Count("refresh"); n != 0 {
		t.Errorf("%d refreshes right after the sign-in", n)
	}
	if st, _ := e.s.AccountStatus(ctx, "helpdesk"); st.LastLogin == nil || st.LastError != "" {
		t.Errorf("the successful login is not recorded: %+v", st)
	}
}

func TestAccessTokenRefreshedBeforeItExpires(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	e.signIn()
	first := e.p.AccessTokens()[0]
	var used []string
	do := fakeServer(t, e.p, &used)
	if err := e.acct.Authenticate(ctx, []string{"XOAUTH2"}, do); err != nil {
		t.Fatal(err)
	}
	// 57 of 60 minutes later the token still works at the provider, but it is within the 5-minute
	// margin: Rocca refreshes before using it.
	e.clock.Advance(57 * time.Minute)
	if _, ok := e.p.ValidAccess(first); !ok {
		t.Fatal("test setup: the first token should still be valid at the provider")
	}
	if err := e.acct.Authenticate(ctx, []string{"XOAUTH2"}, do); err != nil {
		t.Fatal(err)
	}
	if e.p.Count("refresh") != 1 || len(used) != 2 || used[1] == first {
		t.Fatalf("refreshes = %d, tokens used = %d (second is the first: %v)", e.p.Count("refresh"), len(used), used[len(used)-1] == first)
	}
	// A restarted server has no access token in memory: it refreshes with the stored one.
	s2 := NewAccounts(e.db, AccountsOptions{DataDir: e.dir, PublicURL: e.web.URL})
	a2, err := s2.Add(ctx, AccountConfig{Name: "helpdesk", User: e.p.Email, Method: MethodOAuth2, OAuth2: genericConfig(e.p)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a2.Authenticate(ctx, []string{"OAUTHBEARER"}, do); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if e.p.Count("refresh") != 2 {
		t.Errorf("refreshes = %d, want 2", e.p.Count("refresh"))
	}
}

func TestRefusedAccessTokenIsRefreshedOnce(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	e.signIn()
	e.p.RevokeAccessTokens() // the server stops accepting the token before its expiry
	var used []string
	if err := e.acct.Authenticate(ctx, []string{"XOAUTH2", "OAUTHBEARER"}, fakeServer(t, e.p, &used)); err != nil {
		t.Fatalf("login after the server refused the cached token: %v", err)
	}
	if len(used) != 2 || used[0] == used[1] || e.p.Count("refresh") != 1 {
		t.Fatalf("tokens used %d (distinct: %v), refreshes %d", len(used), len(used) == 2 && used[0] != used[1], e.p.Count("refresh"))
	}
	// A server that refuses every token gets one retry per login, not a loop.
	before := e.p.Count("refresh")
	err := e.acct.Authenticate(ctx, []string{"XOAUTH2"}, func(sasl.Client) error { return errors.New("NO AUTHENTICATE failed") })
	if err == nil || e.p.Count("refresh") != before+1 {
		t.Errorf("err = %v, refreshes %d → %d", err, before, e.p.Count("refresh"))
	}
	if st, _ := e.s.AccountStatus(ctx, "helpdesk"); !strings.Contains(st.LastError, "AUTHENTICATE failed") || st.Hint != "mail.hint.imap_disabled" {
		t.Errorf("last error %q, hint %q", st.LastError, st.Hint)
	}
}

func TestRevokedSignInRaisesAlertUntilSignedInAgain(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.s.Collector())
	e.signIn()
	if v := gaugeValue(t, reg, "rocca_mail_account_ready", "helpdesk"); v != 1 {
		t.Errorf("ready metric = %v after sign-in", v)
	}
	e.p.RevokeRefreshTokens() // consent withdrawn at the provider
	e.clock.Advance(2 * time.Hour)
	var used []string
	err := e.acct.Authenticate(ctx, []string{"XOAUTH2"}, fakeServer(t, e.p, &used))
	var re *rocca.Error
	if !errors.As(err, &re) || re.Key != "mail.account.error.revoked" || len(used) != 0 {
		t.Fatalf("err = %v (used %d tokens), want the revoked error before any login", err, len(used))
	}
	st, _ := e.s.AccountStatus(ctx, "helpdesk")
	if st.State != StatusRevoked || !strings.Contains(st.Problem, "invalid_grant") {
		t.Errorf("status = %+v", st)
	}
	if err := e.s.Ready(ctx); err == nil || !strings.Contains(err.Error(), "helpdesk: revoked") {
		t.Errorf("Ready = %v", err)
	}
	if v := gaugeValue(t, reg, "rocca_mail_account_ready", "helpdesk"); v != 0 {
		t.Errorf("ready metric = %v after revocation", v)
	}
	if v := metricValue(t, reg, "rocca_mail_oauth_refresh_total", "helpdesk", "revoked"); v != 1 {
		t.Errorf("revoked refreshes = %v", v)
	}
	if !strings.Contains(e.logs.String(), `"level":"ERROR"`) || !strings.Contains(e.logs.String(), "must sign in again") {
		t.Errorf("no admin alert in the log:\n%s", e.logs.String())
	}
	// Callers keep what they have, and the provider is not asked again and again.
	refreshes := e.p.Count("refresh")
	e.acct.Authenticate(ctx, []string{"XOAUTH2"}, fakeServer(t, e.p, &used))
	e.s.keepFresh(ctx)
	if e.p.Count("refresh") != refreshes {
		t.Errorf("a revoked sign-in was retried at the provider (%d → %d)", refreshes, e.p.Count("refresh"))
	}
	if st, _ := e.s.AccountStatus(ctx, "helpdesk"); !strings.Contains(st.LastError, "invalid_grant") {
		t.Errorf("the provider's reason was overwritten: %q", st.LastError)
	}

	e.signIn()
	if err := e.acct.Authenticate(ctx, []string{"XOAUTH2"}, fakeServer(t, e.p, &used)); err != nil {
		t.Fatalf("after signing in again: %v", err)
	}
	if err := e.s.Ready(ctx); err != nil {
		t.Errorf("Ready after signing in again: %v", err)
	}
	if v := gaugeValue(t, reg, "rocca_mail_account_ready", "helpdesk"); v != 1 {
		t.Errorf("ready metric = %v after signing in again", v)
	}
}

func gaugeValue(t testing.TB, reg *prometheus.Registry, name, account string) float64 {
	t.Helper()
	return metricValue(t, reg, name, account, "")
}

// metricValue finds name{account=account[,result=result]} and returns its gauge or counter value.
func metricValue(t testing.TB, reg *prometheus.Registry, name, account, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["account"] != account || result != "" && labels["result"] != result {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s{account=%q} not found", name, account)
	return 0
}

func TestRotatedRefreshTokenIsKept(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	e.p.Set(func(p *oauthtest.Provider) { p.RotateRefresh = true })
	e.signIn()
	var used []string
	do := fakeServer(t, e.p, &used)
	for range 3 {
		e.clock.Advance(2 * time.Hour)
		if err := e.acct.Authenticate(ctx, []string{"XOAUTH2"}, do); err != nil {
			t.Fatal(err)
		}
	}
	// A restart uses the last rotated refresh token from the database; the retired ones would fail.
	s2 := NewAccounts(e.db, AccountsOptions{DataDir: e.dir})
	a2, _ := s2.Add(ctx, AccountConfig{Name: "helpdesk", User: e.p.Email, Method: MethodOAuth2, OAuth2: genericConfig(e.p)})
	if err := a2.Authenticate(ctx, []string{"XOAUTH2"}, do); err != nil {
		t.Fatalf("after restart with rotated refresh tokens: %v", err)
	}
	if n := e.p.Count("invalid_grant"); n != 0 {
		t.Errorf("%d refreshes used a retired token", n)
	}
}

func TestLostKeyNeedsANewSignIn(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	e.signIn()
	if err := os.Remove(filepath.Join(e.dir, KeyFileName)); err != nil {
		t.Fatal(err)
	}
	s2 := NewAccounts(e.db, AccountsOptions{DataDir: e.dir, PublicURL: e.web.URL})
	a2, _ := s2.Add(ctx, AccountConfig{Name: "helpdesk", User: e.p.Email, Method: MethodOAuth2, OAuth2: genericConfig(e.p)})
	st, _ := s2.AccountStatus(ctx, "helpdesk")
	if st.State != StatusNotConnected || st.ProblemKey != "mail.account.error.key_lost" {
		t.Fatalf("status without the key: %+v", st)
	}
	var used []string
	err := a2.Authenticate(ctx, []string{"XOAUTH2"}, fakeServer(t, e.p, &used))
	var re *rocca.Error
	if !errors.As(err, &re) || re.Key != "mail.account.error.key_lost" {
		t.Fatalf("err = %v", err)
	}
	e.signIn() // a new key is made; the sign-in works again
	if err := e.acct.Authenticate(ctx, []string{"XOAUTH2"}, fakeServer(t, e.p, &used)); err != nil {
		t.Fatal(err)
	}
}

func TestChangedApplicationNeedsANewSignIn(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	e.signIn()
	cfg := genericConfig(e.p)
	cfg.ClientID = "another-app"
	s2 := NewAccounts(e.db, AccountsOptions{DataDir: e.dir})
	if _, err := s2.Add(ctx, AccountConfig{Name: "helpdesk", Method: MethodOAuth2, OAuth2: cfg}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s2.AccountStatus(ctx, "helpdesk"); st.State != StatusNotConnected || st.ProblemKey != "mail.account.error.changed" {
		t.Errorf("status = %+v", st)
	}
}

func TestPasswordAccountIsTheSameToCallers(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, filepath.Join(dir, "rocca.db"))
	s := NewAccounts(db, AccountsOptions{DataDir: dir})
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("segreto\n"), 0o600)
	a, err := s.Add(context.Background(), AccountConfig{Name: "smtp", Uses: []string{"SMTP"}, User: "rocca", Method: MethodPassword, PasswordFile: pw})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	var auth Auth = a
	err = auth.Authenticate(context.Background(), []string{"LOGIN", "PLAIN", "XOAUTH2"}, func(c sasl.Client) error {
		mech, ir, _ := c.Start()
		got = mech + " " + strings.ReplaceAll(string(ir), "\x00", "|")
		return nil
	})
	if err != nil || got != "PLAIN |rocca|segreto" {
		t.Fatalf("got %q, %v", got, err)
	}
	if err := auth.Authenticate(context.Background(), []string{"XOAUTH2"}, func(sasl.Client) error { return nil }); !errors.Is(err, ErrNoMechanism) {
		t.Errorf("password account on an OAuth2-only server: %v", err)
	}
	st, _ := s.AccountStatus(context.Background(), "smtp")
	if st.State != StatusReady || st.Method != MethodPassword || st.LastLogin == nil {
		t.Errorf("status = %+v", st)
	}
	if err := s.Ready(context.Background()); err != nil {
		t.Errorf("Ready with a password account: %v", err)
	}
}

func TestAddChecksTheConfiguration(t *testing.T) {
	dir := t.TempDir()
	s := NewAccounts(openDB(t, ""), AccountsOptions{DataDir: dir})
	for _, c := range []struct {
		cfg AccountConfig
		key string
	}{
		{AccountConfig{Name: "helpdesk", Method: "kerberos"}, "mail.account.error.method"},
		{AccountConfig{Name: "helpdesk", Method: MethodOAuth2, OAuth2: OAuth2Config{Provider: "yahoo", ClientID: "x"}}, "mail.oauth.error.provider"},
		{AccountConfig{Name: "helpdesk", Method: MethodOAuth2, OAuth2: OAuth2Config{Provider: ProviderMicrosoft}}, "mail.oauth.error.client_id"},
		{AccountConfig{Name: "helpdesk", Method: MethodOAuth2, OAuth2: OAuth2Config{Provider: ProviderMicrosoft, ClientID: "x"}}, "mail.oauth.error.tenant"},
		{AccountConfig{Name: "helpdesk", Method: MethodOAuth2, OAuth2: OAuth2Config{Provider: ProviderMicrosoft, ClientID: "x", Tenant: "a/b"}}, "mail.oauth.error.tenant"},
		{AccountConfig{Name: "helpdesk", Method: MethodOAuth2, OAuth2: OAuth2Config{Provider: ProviderGoogle, ClientID: "x"}}, "mail.oauth.error.google_secret"},
		{AccountConfig{Name: "helpdesk", Method: MethodOAuth2, OAuth2: OAuth2Config{Provider: ProviderGeneric, ClientID: "x", AuthURL: "/auth", TokenURL: "https://t"}}, "mail.oauth.error.endpoints"},
		{AccountConfig{Name: "helpdesk", Method: MethodOAuth2, OAuth2: OAuth2Config{Provider: ProviderGeneric, ClientID: "x", AuthURL: "https://a", TokenURL: "https://t"}}, "mail.oauth.error.scopes"},
		{AccountConfig{Name: "helpdesk", Method: MethodPassword, User: "u"}, "mail.account.error.no_password_file"},
	} {
		_, err := s.Add(context.Background(), c.cfg)
		var re *rocca.Error
		if !errors.As(err, &re) || re.Key != c.key {
			t.Errorf("%+v: err = %v, want key %s", c.cfg, err, c.key)
		}
	}
}

func TestProviderPresets(t *testing.T) {
	ms, err := ProviderFor(OAuth2Config{Provider: ProviderMicrosoft, Tenant: "comune.example.it", ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"} {
		if !slices.Contains(ms.Scopes, s) {
			t.Errorf("Microsoft scopes lack %s", s)
		}
	}
	if ms.Endpoint.AuthURL != "https://login.microsoftonline.com/comune.example.it/oauth2/v2.0/authorize" ||
		ms.Endpoint.TokenURL != "https://login.microsoftonline.com/comune.example.it/oauth2/v2.0/token" ||
		ms.Endpoint.DeviceAuthURL != "https://login.microsoftonline.com/comune.example.it/oauth2/v2.0/devicecode" || !ms.DeviceGrant {
		t.Errorf("Microsoft endpoints = %+v", ms.Endpoint)
	}
	if ms.IMAP != (Server{"outlook.office365.com", 993, SecurityTLS}) || ms.SMTP != (Server{"smtp.office365.com", 587, SecurityStartTLS}) {
		t.Errorf("Microsoft servers = %+v %+v", ms.IMAP, ms.SMTP)
	}
	g, err := ProviderFor(OAuth2Config{Provider: ProviderGoogle, ClientID: "c", ClientSecretFile: "/s"})
	if err != nil {
		t.Fatal(err)
	}
	if g.DeviceGrant || !slices.Contains(g.Scopes, "https://mail.google.com/") || g.AuthParams["access_type"] != "offline" ||
		g.IMAP.Host != "imap.gmail.com" || g.SMTP.Host != "smtp.gmail.com" {
		t.Errorf("Google = %+v", g)
	}
	p, ok := PresetFor("register", "helpdesk@comune.example.it")
	if !ok || p.SMTP.Host != "authsmtp.comune.example.it" {
		t.Errorf("register preset = %+v", p)
	}
	if p, ok := PresetFor("aruba-pec", ""); !ok || !p.PEC || p.SMTP.Host != "smtps.pec.aruba.it" {
		t.Errorf("aruba-pec preset = %+v", p)
	}
}

func TestHint(t *testing.T) {
	for text, want := range map[string]string{
		`oauth2: "invalid_grant" "AADSTS65001: The user or administrator has not consented"`:                                "mail.hint.consent",
		`oauth2: "invalid_request" "AADSTS90002: Tenant 'x' not found"`:                                                     "mail.hint.tenant",
		`oauth2: "unauthorized_client" "AADSTS700016: Application not found in the directory"`:                              "mail.hint.client",
		`oauth2: "invalid_client" "AADSTS7000222: The provided client secret keys are expired"`:                             "mail.hint.secret",
		`smtp auth: login as a with XOAUTH2: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled`: "mail.hint.smtp_auth_disabled",
		`login as helpdesk@x with XOAUTH2: AUTHENTICATE failed.`:                                                            "mail.hint.imap_disabled",
		`connect to x:993: connection refused`:                                                                              "",
	} {
		if got := Hint(MethodOAuth2, text); got != want {
			t.Errorf("Hint(%q) = %q, want %q", text, got, want)
		}
	}
	if got := Hint(MethodPassword, "login as u: 535 5.7.8 Authentication credentials invalid"); got != "mail.hint.password" {
		t.Errorf("password hint = %q", got)
	}
}
