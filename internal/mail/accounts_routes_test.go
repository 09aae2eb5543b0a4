package mail

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestWebSignInRefusesForgedOrReplayedCallbacks(t *testing.T) {
	e := newAccountsEnv(t)
	c := e.client()
	authorize := e.startSignIn(c)
	u, _ := url.Parse(authorize)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || len(q.Get("state")) < 40 ||
		q.Get("redirect_uri") != e.web.URL+CallbackPath || q.Get("login_hint") != e.p.Email {
		t.Fatalf("authorization request = %v", q)
	}
	callback := e.consent(c, authorize, "allow")

	refused := func(what, u, reason string) {
		t.Helper()
		h := e.do(c, "GET", u, nil)
		if h.status != http.StatusBadRequest || !strings.Contains(h.body, `data-reason="`+reason+`"`) || !strings.Contains(h.body, "Accesso non completato") {
			t.Errorf("%s: %d, want the refusal page with %s\n%s", what, h.status, reason, h.body)
		}
	}
	// A state nobody started.
	forged, _ := url.Parse(callback)
	fq := forged.Query()
	fq.Set("state", randomToken())
	forged.RawQuery = fq.Encode()
	refused("wrong state", forged.String(), "mail.signin.bad_state")

	// The genuine callback works once…
	if h := e.do(c, "GET", callback, nil); h.status != http.StatusSeeOther {
		t.Fatalf("genuine callback = %d\n%s", h.status, h.body)
	}
	// …and a replay of it is refused: the state was single use.
	refused("replayed callback", callback, "mail.signin.bad_state")

	// The used code with a fresh, genuine state: the provider refuses to exchange it again.
	fresh, _ := url.Parse(e.startSignIn(c))
	replay, _ := url.Parse(callback)
	rq := replay.Query()
	rq.Set("state", fresh.Query().Get("state"))
	replay.RawQuery = rq.Encode()
	refused("replayed code", replay.String(), "mail.signin.bad_code")
	if n := e.p.Count("invalid_grant"); n != 1 {
		t.Errorf("provider refused %d code exchanges, want 1", n)
	}

	// A state started by another admin.
	other := e.startSignIn(c)
	cb := e.consent(c, other, "allow")
	e.adminID = 2
	refused("another admin's state", cb, "mail.signin.bad_state")
	e.adminID = 1

	// The admin clicks "Rifiuta" at the provider.
	cb = e.consent(c, e.startSignIn(c), "deny")
	refused("consent refused", cb, "mail.signin.denied")

	// Only the one genuine sign-in was stored.
	if n := e.p.Count("code"); n != 2 {
		t.Errorf("code exchanges = %d, want 2 (the genuine one and the refused replay)", n)
	}
	st, _ := e.s.AccountStatus(context.Background(), "helpdesk")
	if st.State != StatusReady || st.SignedInAs != e.p.Email {
		t.Errorf("status = %+v", st)
	}
}

func TestAccountsPage(t *testing.T) {
	e := newAccountsEnv(t)
	c := e.client()
	h := e.do(c, "GET", e.web.URL+"/admin/mail", nil)
	for _, want := range []string{"Account di posta", "Casella dell&#39;helpdesk", "Da collegare", `action="/admin/mail/helpdesk/connect"`,
		"rocca mail login --account helpdesk", e.web.URL + CallbackPath, "non è ancora collegato"} {
		if !strings.Contains(h.body, want) {
			t.Errorf("page before sign-in lacks %q", want)
		}
	}
	e.signIn()
	h = e.do(c, "GET", e.web.URL+"/admin/mail?connected=helpdesk", nil)
	for _, want := range []string{"Account helpdesk collegato.", "Pronto", `class="signed-in-as">` + e.p.Email, "<code>offline_access</code>", "Connetti di nuovo", "Scollega"} {
		if !strings.Contains(h.body, want) {
			t.Errorf("page after sign-in lacks %q", want)
		}
	}
	e.p.RevokeRefreshTokens()
	e.clock.Advance(2 * time.Hour)
	e.s.keepFresh(context.Background())
	h = e.do(c, "GET", e.web.URL+"/admin/mail", nil)
	for _, want := range []string{"Accesso revocato", "alert-danger", "invalid_grant", "non può più accedere"} {
		if !strings.Contains(h.body, want) {
			t.Errorf("page after revocation lacks %q", want)
		}
	}
	h = e.do(c, "POST", e.web.URL+"/admin/mail/helpdesk/disconnect", url.Values{})
	if h.status != http.StatusSeeOther {
		t.Errorf("disconnect = %d", h.status)
	}
	h = e.do(c, "GET", e.web.URL+"/admin/mail?lang=en", nil)
	if h.status != http.StatusOK {
		t.Errorf("page = %d", h.status)
	}
}
