package mail

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/emersion/go-sasl"
)

// SASL mechanism names as servers advertise them (IMAP AUTH=…, SMTP EHLO AUTH …).
const (
	MechXOAuth2     = "XOAUTH2"     // Google's mechanism; the only one Exchange Online offers
	MechOAuthBearer = "OAUTHBEARER" // RFC 7628
	MechPlain       = "PLAIN"
	MechLogin       = "LOGIN"
)

// ErrNoMechanism means the server offers no SASL mechanism Rocca can use with the account's method.
var ErrNoMechanism = errors.New("the server offers no usable authentication mechanism")

// BearerError is the JSON error a server sends as a challenge when it refuses an OAuth2 token
// (RFC 7628 section 3.2.2; Google and Dovecot send the same shape for XOAUTH2).
type BearerError struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
}

func (e *BearerError) Error() string {
	if e.Scope != "" {
		return "the server refused the access token (status " + e.Status + ", scope " + e.Scope + ")"
	}
	return "the server refused the access token (status " + e.Status + ")"
}

// bearerClient implements XOAUTH2 and OAUTHBEARER. On an error challenge it answers what each
// mechanism requires (an empty response for XOAUTH2, a single 0x01 for OAUTHBEARER) so that the
// server finishes the exchange with a plain NO/535, and remembers the error for the caller.
type bearerClient struct {
	mech, user, token string
	refused           *BearerError
}

// NewXOAuth2Client returns a SASL client for XOAUTH2: "user=U^Aauth=Bearer T^A^A".
func NewXOAuth2Client(user, token string) sasl.Client {
	return &bearerClient{mech: MechXOAuth2, user: user, token: token}
}

// NewOAuthBearerClient returns a SASL client for OAUTHBEARER (RFC 7628) with the user as the
// authorization identity. Host and port are optional in the GS2 header and left out.
func NewOAuthBearerClient(user, token string) sasl.Client {
	return &bearerClient{mech: MechOAuthBearer, user: user, token: token}
}

func (c *bearerClient) Start() (string, []byte, error) {
	if c.mech == MechXOAuth2 {
		return c.mech, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
	}
	// A "," in the authzid would end the GS2 field: RFC 5801 encodes it as =2C, "=" as =3D.
	authz := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(c.user)
	return c.mech, []byte("n,a=" + authz + ",\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *bearerClient) Next(challenge []byte) ([]byte, error) {
	e := &BearerError{}
	if err := json.Unmarshal(challenge, e); err != nil || e.Status == "" {
		e = &BearerError{Status: "unknown"}
	}
	c.refused = e
	if c.mech == MechXOAuth2 {
		return []byte{}, nil
	}
	return []byte{0x01}, nil
}

// oauthMechanism picks the OAuth2 mechanism among those the server offers: OAUTHBEARER, the
// standard, when offered, otherwise XOAUTH2. mechs are matched without regard to case.
func oauthMechanism(mechs []string) (string, bool) {
	for _, m := range []string{MechOAuthBearer, MechXOAuth2} {
		if slices.ContainsFunc(mechs, func(s string) bool { return strings.EqualFold(s, m) }) {
			return m, true
		}
	}
	return "", false
}

// passwordMechanism picks PLAIN, or LOGIN for the old servers that offer only that.
func passwordMechanism(mechs []string) (string, bool) {
	for _, m := range []string{MechPlain, MechLogin} {
		if slices.ContainsFunc(mechs, func(s string) bool { return strings.EqualFold(s, m) }) {
			return m, true
		}
	}
	return "", false
}

// IMAPMechanisms lists the SASL mechanisms in a go-imap capability map (the "AUTH=…" entries).
func IMAPMechanisms(caps map[string]bool) []string {
	var mechs []string
	for c, ok := range caps {
		if m, found := strings.CutPrefix(strings.ToUpper(c), "AUTH="); ok && found {
			mechs = append(mechs, m)
		}
	}
	slices.Sort(mechs)
	return mechs
}

// SMTPMechanisms splits the parameter of an SMTP server's AUTH extension ("PLAIN LOGIN XOAUTH2").
func SMTPMechanisms(param string) []string {
	return strings.Fields(strings.ToUpper(param))
}
