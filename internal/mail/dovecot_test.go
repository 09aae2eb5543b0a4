package mail

import (
	"context"
	"io"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"

	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
)

// dovecot wraps the provider's Dovecot with the IMAP helpers of these tests.
type dovecot struct {
	*oauthtest.Dovecot
}

// deliver stores a message in the user's INBOX, as an MTA would.
func (d *dovecot) deliver(t *testing.T, user, subject string) {
	t.Helper()
	d.Deliver(user, []byte("From: Anna <anna@comune.example.it>\r\nTo: "+user+"\r\nSubject: "+subject+
		"\r\nMessage-ID: <"+strings.ReplaceAll(subject, " ", ".")+"@comune.example.it>\r\n\r\nLa stampante non stampa.\r\n"))
}

func (d *dovecot) dial(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.Dial(d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.ErrorLog = log.New(io.Discard, "", 0)
	c.Timeout = 30 * time.Second
	t.Cleanup(func() { c.Terminate() })
	return c
}

// subjects logs in with acct offering only mech, and returns the subjects in INBOX.
func (d *dovecot) subjects(t *testing.T, acct *Account, mech string) ([]string, error) {
	t.Helper()
	c := d.dial(t)
	caps, err := c.Capability()
	if err != nil {
		t.Fatal(err)
	}
	offered := IMAPMechanisms(caps)
	if !strings.Contains(" "+strings.Join(offered, " ")+" ", " "+mech+" ") {
		t.Fatalf("Dovecot offers %v, not %s", offered, mech)
	}
	if caps["AUTH=PLAIN"] || caps["AUTH=LOGIN"] {
		t.Fatalf("Dovecot offers a password mechanism: %v", offered)
	}
	if err := acct.Authenticate(context.Background(), []string{mech}, c.Authenticate); err != nil {
		return nil, err
	}
	mbox, err := c.Select("INBOX", true)
	if err != nil {
		t.Fatal(err)
	}
	if mbox.Messages == 0 {
		return nil, nil
	}
	seq := new(imap.SeqSet)
	seq.AddRange(1, mbox.Messages)
	ch := make(chan *imap.Message, 16)
	done := make(chan error, 1)
	go func() { done <- c.Fetch(seq, []imap.FetchItem{imap.FetchEnvelope}, ch) }()
	var out []string
	for m := range ch {
		out = append(out, m.Envelope.Subject)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.Logout()
	return out, nil
}

// TestDovecotOAuth2Login is acceptance 1 at the level of this package: a real Dovecot that knows
// no password reads the mailbox for Rocca after an XOAUTH2 and an OAUTHBEARER login, and keeps
// doing so across access-token expiry and an early revocation. (The helpdesk's own IMAP client
// plugs the same Account in; see the report.)
func TestDovecotOAuth2Login(t *testing.T) {
	e := newAccountsEnv(t)
	e.p.Set(func(p *oauthtest.Provider) { p.AccessTTL = 4 * time.Second })
	d := &dovecot{e.p.Dovecot(t)}
	user := e.p.Email
	d.deliver(t, user, "Richiesta uno")

	// Before any sign-in there is nothing to log in with.
	if _, err := d.subjects(t, e.acct, MechXOAuth2); err == nil {
		t.Fatal("logged in without a sign-in")
	}
	srv := Server{Host: d.Host, Port: d.Port, Security: SecurityNone}
	if err := CheckIMAP(context.Background(), srv, e.acct, nil); err == nil {
		t.Error("the live check passed without a sign-in")
	}
	e.signIn()
	// The installer's and doctor's live check.
	if err := CheckIMAP(context.Background(), srv, e.acct, nil); err != nil {
		t.Fatalf("CheckIMAP: %v", err)
	}
	for _, mech := range []string{MechXOAuth2, MechOAuthBearer} {
		got, err := d.subjects(t, e.acct, mech)
		if err != nil {
			t.Fatalf("%s login: %v", mech, err)
		}
		if strings.Join(got, "|") != "Richiesta uno" {
			t.Fatalf("%s: INBOX = %q", mech, got)
		}
	}
	// Let the access token lapse: Dovecot refuses it, Rocca refreshes and keeps reading.
	old := e.p.AccessTokens()
	waitFor(t, "the access token to expire", func() bool {
		_, ok := e.p.ValidAccess(old[0])
		return !ok
	})
	d.deliver(t, user, "Richiesta due")
	refreshes := e.p.Count("refresh")
	for _, mech := range []string{MechXOAuth2, MechOAuthBearer} {
		got, err := d.subjects(t, e.acct, mech)
		if err != nil {
			t.Fatalf("%s after expiry: %v", mech, err)
		}
		if strings.Join(got, "|") != "Richiesta uno|Richiesta due" {
			t.Fatalf("%s after expiry: INBOX = %q", mech, got)
		}
	}
	if e.p.Count("refresh") <= refreshes {
		t.Error("no refresh after the access token expired")
	}
	// A token revoked before its expiry: refused by Dovecot, refreshed, same connection. Dovecot
	// delays the next attempt after a failure from the same address (its auth penalty, 2 s and
	// doubling), so from here tokens live long enough to survive that delay.
	e.p.Set(func(p *oauthtest.Provider) { p.AccessTTL = time.Hour })
	e.p.RevokeAccessTokens()
	if _, err := d.subjects(t, e.acct, MechXOAuth2); err != nil {
		t.Fatalf("after early revocation: %v", err)
	}
	if e.p.Count("userinfo") == 0 || e.p.Count("userinfo") == e.p.Count("userinfo_ok") {
		t.Errorf("Dovecot asked userinfo %d times, %d accepted: it must have refused some", e.p.Count("userinfo"), e.p.Count("userinfo_ok"))
	}
	if st, _ := e.s.AccountStatus(context.Background(), "helpdesk"); st.LastLogin == nil {
		t.Errorf("no last login recorded: %+v", st)
	}
	// And Dovecot really checks: the expired token of the first login is refused.
	raw := d.dial(t)
	if err := raw.Authenticate(NewXOAuth2Client(user, old[0])); err == nil {
		t.Error("Dovecot accepted an expired access token")
	}
}
