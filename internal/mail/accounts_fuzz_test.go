package mail

import (
	"strings"
	"testing"
	"time"
)

// FuzzTokenResponse feeds the token endpoint's answers (from the network) to the parser and the
// ID-token reader: they must never panic, and a token only comes with an access token.
func FuzzTokenResponse(f *testing.F) {
	f.Add(200, []byte(`{"access_token":"a","token_type":"Bearer","refresh_token":"r","expires_in":3600,"scope":"mail offline_access","id_token":"e30.eyJlbWFpbCI6ImFAYi5pdCJ9.x"}`))
	f.Add(400, []byte(`{"error":"authorization_pending"}`))
	f.Add(400, []byte(`{"error":"slow_down","error_description":"x"}`))
	f.Add(500, []byte(`<html>`))
	f.Add(200, []byte(`{"access_token":"a","expires_in":-5,"id_token":"a.!!!.b"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tok, code, err := parseTokenResponse(status, body, time.Unix(0, 0))
		if err == nil && (tok == nil || tok.AccessToken == "" || code != "") {
			t.Fatalf("token %+v code %q without error", tok, code)
		}
		if err != nil && tok != nil {
			t.Fatal("a token and an error")
		}
		if tok != nil {
			if id := identityOf(tok); id != "" && !strings.Contains(id, "@") {
				t.Fatalf("identity %q", id)
			}
			grantedScopes(tok, nil)
		}
	})
}

// FuzzBearerChallenge feeds server challenges to the OAuth2 SASL clients.
func FuzzBearerChallenge(f *testing.F) {
	f.Add([]byte(`{"status":"401","schemes":"bearer","scope":"mail"}`))
	f.Add([]byte(`not json`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, challenge []byte) {
		for _, c := range []*bearerClient{{mech: MechXOAuth2}, {mech: MechOAuthBearer}} {
			resp, err := c.Next(challenge)
			if err != nil || resp == nil || c.refused == nil {
				t.Fatalf("%s: %q %v %v", c.mech, resp, err, c.refused)
			}
		}
	})
}
