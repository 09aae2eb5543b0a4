package mail

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/browsertest"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
	"github.com/rocca-pa/rocca/internal/web"
)

// TestWebSignInInBrowser is acceptance 3: in headless Chromium the admin presses "Connetti" on
// the real page served by web.Server (CSP, cross-origin protection and all), consents at the
// fake provider, lands back on the page with the account connected, the mailbox and the scopes;
// replaying the provider's redirect, or a forged state, shows the refusal page.
func TestWebSignInInBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	p := oauthtest.New(t)
	dir := t.TempDir()
	db := openDB(t, filepath.Join(dir, "rocca.db"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	w, err := web.New(web.Options{Listen: addr, PublicURL: base, DataDir: dir, Municipality: "Comune di Prova"}, discardLogger(), cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Stands in for internal/auth: every request is the administrator's.
	w.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			u := &rocca.User{ID: 1, Email: "it@comune.example.it", Name: "Ufficio IT", Role: rocca.RoleAdmin, Language: "it"}
			next.ServeHTTP(rw, r.WithContext(rocca.NewContextWithUser(r.Context(), u)))
		})
	})
	s := NewAccounts(db, AccountsOptions{DataDir: dir, PublicURL: base, Logger: slog.New(slog.DiscardHandler)})
	if _, err := s.Add(context.Background(), AccountConfig{Name: "helpdesk", Uses: []string{"IMAP"}, User: p.Email,
		Method: MethodOAuth2, OAuth2: genericConfig(p)}); err != nil {
		t.Fatal(err)
	}
	s.Routes(w, func(rocca.Role) func(http.Handler) http.Handler {
		return func(h http.Handler) http.Handler { return h }
	})
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- w.Serve(sctx) }()
	t.Cleanup(func() { stop(); <-served })
	waitFor(t, "web server", func() bool {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil
	})

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	step("open the page", chromedp.Navigate(base+"/admin/mail"), chromedp.WaitVisible(chromedp.CSS(`#account-helpdesk[data-state="not_connected"]`)))
	step("press Connetti", chromedp.Click(chromedp.CSS("#connect-helpdesk")), chromedp.WaitVisible(chromedp.CSS("#allow")))
	if got := eval(`location.origin`); got != p.URL {
		t.Fatalf("after Connetti the browser is at %s, want the provider %s", got, p.URL)
	}
	step("consent", chromedp.Click(chromedp.CSS("#allow")), chromedp.WaitVisible(chromedp.CSS(`#account-helpdesk[data-state="ready"]`)))
	if got := eval(`location.pathname + location.search + " | " + document.querySelector("#account-helpdesk .signed-in-as").textContent.trim() + " | " +
		document.querySelector("#account-helpdesk .scopes").textContent.trim() + " | " + document.querySelector(".alert-success").textContent.trim()`); got !=
		"/admin/mail?connected=helpdesk | "+p.Email+" | mail offline_access | Account helpdesk collegato." {
		t.Errorf("page after sign-in: %q", got)
	}

	replay := p.LastRedirect()
	step("replay the callback", chromedp.Navigate(replay), chromedp.WaitVisible(chromedp.CSS("#signin-refused")))
	if got := eval(`document.querySelector("#signin-refused").dataset.reason + " | " + document.title`); !strings.HasPrefix(got, "mail.signin.bad_state | Accesso non completato") {
		t.Errorf("replayed callback: %q", got)
	}
	step("forged state", chromedp.Navigate(base+CallbackPath+"?state=forged&code=whatever"), chromedp.WaitVisible(chromedp.CSS("#signin-refused")))
	if got := eval(`document.querySelector("#signin-refused").dataset.reason`); got != "mail.signin.bad_state" {
		t.Errorf("forged state: %q", got)
	}
	if n := p.Count("code"); n != 1 {
		t.Errorf("%d code exchanges, want only the genuine one", n)
	}
	st, _ := s.AccountStatus(context.Background(), "helpdesk")
	if st.State != StatusReady {
		t.Errorf("status = %+v", st)
	}
}
