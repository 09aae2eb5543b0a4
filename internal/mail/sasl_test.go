package mail

import (
	"errors"
	"slices"
	"testing"

	"github.com/emersion/go-sasl"
)

func TestXOAuth2Client(t *testing.T) {
	c := NewXOAuth2Client("helpdesk@comune.example.it", "ya29.tok")
	mech, ir, err := c.Start()
	if err != nil || mech != "XOAUTH2" || string(ir) != "user=helpdesk@comune.example.it\x01auth=Bearer ya29.tok\x01\x01" {
		t.Fatalf("Start = %q %q %v", mech, ir, err)
	}
	// A refusal comes as a JSON challenge; XOAUTH2 answers it with an empty response.
	resp, err := c.Next([]byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`))
	if err != nil || resp == nil || len(resp) != 0 {
		t.Fatalf("Next = %q %v, want an empty (non-nil) response", resp, err)
	}
	if r := c.(*bearerClient).refused; r == nil || r.Status != "401" || r.Scope != "https://mail.google.com/" {
		t.Errorf("refusal not kept: %+v", r)
	}
}

func TestOAuthBearerClient(t *testing.T) {
	c := NewOAuthBearerClient("uff,icio=it@comune.example.it", "tok")
	mech, ir, _ := c.Start()
	if mech != "OAUTHBEARER" || string(ir) != "n,a=uff=2Cicio=3Dit@comune.example.it,\x01auth=Bearer tok\x01\x01" {
		t.Fatalf("Start = %q %q", mech, ir)
	}
	// RFC 7628 3.2.3: after an error the client sends a single ^A.
	resp, err := c.Next([]byte("not json"))
	if err != nil || string(resp) != "\x01" {
		t.Fatalf("Next = %q %v", resp, err)
	}
	// go-sasl's server understands what the client sends.
	var got sasl.OAuthBearerOptions
	srv := sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError { got = o; return nil })
	_, ir2, _ := NewOAuthBearerClient("it@comune.example.it", "tok").Start()
	if _, done, err := srv.Next(ir2); err != nil || !done || got.Username != "it@comune.example.it" || got.Token != "tok" {
		t.Errorf("go-sasl server read %+v, done %v, err %v", got, done, err)
	}
}

func TestMechanismChoice(t *testing.T) {
	for _, c := range []struct {
		offered []string
		want    string
	}{
		{[]string{"PLAIN", "LOGIN", "XOAUTH2"}, "XOAUTH2"},           // Exchange Online
		{[]string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}, "OAUTHBEARER"}, // Gmail, Dovecot
		{[]string{"oauthbearer"}, "OAUTHBEARER"},
		{[]string{"PLAIN"}, ""},
	} {
		got, ok := oauthMechanism(c.offered)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("oauthMechanism(%v) = %q %v", c.offered, got, ok)
		}
	}
	if m, _ := passwordMechanism([]string{"LOGIN", "PLAIN"}); m != "PLAIN" {
		t.Errorf("password mechanism = %q", m)
	}
	if m, _ := passwordMechanism([]string{"LOGIN"}); m != "LOGIN" {
		t.Errorf("password mechanism for a LOGIN-only server = %q", m)
	}
	if _, err := (PasswordAuth{User: "u", PasswordFile: "/x"}).SASL(nil, []string{"XOAUTH2"}); !errors.Is(err, ErrNoMechanism) {
		t.Errorf("err = %v", err)
	}
}

func TestMechanismLists(t *testing.T) {
	caps := map[string]bool{"IMAP4rev1": true, "AUTH=PLAIN": true, "AUTH=XOAUTH2": true, "auth=oauthbearer": true, "SASL-IR": true}
	if got := IMAPMechanisms(caps); !slices.Equal(got, []string{"OAUTHBEARER", "PLAIN", "XOAUTH2"}) {
		t.Errorf("IMAPMechanisms = %v", got)
	}
	if got := SMTPMechanisms("login plain  XOAUTH2"); !slices.Equal(got, []string{"LOGIN", "PLAIN", "XOAUTH2"}) {
		t.Errorf("SMTPMechanisms = %v", got)
	}
}
