package mail

import (
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/rocca-pa/rocca"
)

// The OAuth2 providers an account may use.
const (
	ProviderMicrosoft = "microsoft" // Microsoft 365 / Exchange Online (Entra ID)
	ProviderGoogle    = "google"    // Google Workspace / Gmail
	ProviderGeneric   = "generic"   // any provider: endpoints and scopes from the configuration
)

// Providers lists the provider names in display order.
func Providers() []string { return []string{ProviderMicrosoft, ProviderGoogle, ProviderGeneric} }

// Server says where a mail server listens: what a preset fills in for [helpdesk] imap_* or
// [mail] smtp_*. Security is one of the Security* constants.
type Server struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Security string `json:"security"`
}

// Provider is everything Rocca needs to sign in to one OAuth2 provider: endpoints, the scopes that
// give IMAP and SMTP access, and where its mail servers are.
type Provider struct {
	Name     string
	Endpoint oauth2.Endpoint
	Scopes   []string
	// DeviceGrant is false when the provider refuses the device authorization grant (RFC 8628) for
	// mail scopes: Google does, so its accounts sign in from the web page only.
	DeviceGrant bool
	// AuthParams are extra parameters of the authorization request.
	AuthParams map[string]string
	IMAP, SMTP Server
}

// OAuth2Config is the OAuth2 part of an account's configuration ([helpdesk] or [mail] oauth2_*).
type OAuth2Config struct {
	Provider         string   // microsoft | google | generic
	Tenant           string   // microsoft: the directory (tenant) id or domain
	ClientID         string   // the application (client) id registered at the provider
	ClientSecretFile string   // optional for microsoft and generic (public client), required for google
	AuthURL          string   // generic: authorization endpoint
	TokenURL         string   // generic: token endpoint
	DeviceURL        string   // generic: device authorization endpoint; "" disables `rocca mail login`
	Scopes           []string // generic: the scopes to ask for (add offline_access if the provider needs it)
}

// Microsoft's scopes for IMAP and SMTP on Exchange Online; offline_access yields a refresh token,
// openid and email an ID token naming the mailbox that signed in.
var microsoftScopes = []string{
	"https://outlook.office.com/IMAP.AccessAsUser.All",
	"https://outlook.office.com/SMTP.Send",
	"offline_access", "openid", "email",
}

// ProviderFor resolves cfg into a Provider: the preset of microsoft and google, or the endpoints
// of a generic provider. It checks what each provider needs without touching the network.
func ProviderFor(cfg OAuth2Config) (Provider, error) {
	if cfg.ClientID == "" {
		return Provider{}, rocca.Localized(rocca.EINVALID, "mail.oauth.error.client_id", "the OAuth2 client id is required")
	}
	switch cfg.Provider {
	case ProviderMicrosoft:
		if !validTenant(cfg.Tenant) {
			return Provider{}, rocca.Localized(rocca.EINVALID, "mail.oauth.error.tenant",
				"the Microsoft tenant (directory id or domain) is required", cfg.Tenant)
		}
		base := "https://login.microsoftonline.com/" + url.PathEscape(cfg.Tenant) + "/oauth2/v2.0/"
		return Provider{
			Name: ProviderMicrosoft,
			Endpoint: oauth2.Endpoint{
				AuthURL: base + "authorize", TokenURL: base + "token", DeviceAuthURL: base + "devicecode",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			Scopes:      microsoftScopes,
			DeviceGrant: true,
			IMAP:        Server{Host: "outlook.office365.com", Port: 993, Security: SecurityTLS},
			SMTP:        Server{Host: "smtp.office365.com", Port: 587, Security: SecurityStartTLS},
		}, nil
	case ProviderGoogle:
		if cfg.ClientSecretFile == "" {
			return Provider{}, rocca.Localized(rocca.EINVALID, "mail.oauth.error.google_secret",
				"Google needs the client secret file of a web application client")
		}
		return Provider{
			Name: ProviderGoogle,
			Endpoint: oauth2.Endpoint{
				AuthURL: "https://accounts.google.com/o/oauth2/auth", TokenURL: "https://oauth2.googleapis.com/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			Scopes: []string{"https://mail.google.com/", "openid", "email"},
			// Google issues a refresh token only with offline access, and again only on consent.
			AuthParams: map[string]string{"access_type": "offline", "prompt": "consent"},
			IMAP:       Server{Host: "imap.gmail.com", Port: 993, Security: SecurityTLS},
			SMTP:       Server{Host: "smtp.gmail.com", Port: 587, Security: SecurityStartTLS},
		}, nil
	case ProviderGeneric:
		if !absoluteURL(cfg.AuthURL) || !absoluteURL(cfg.TokenURL) || cfg.DeviceURL != "" && !absoluteURL(cfg.DeviceURL) {
			return Provider{}, rocca.Localized(rocca.EINVALID, "mail.oauth.error.endpoints",
				"a generic OAuth2 provider needs absolute authorization and token URLs")
		}
		if len(cfg.Scopes) == 0 {
			return Provider{}, rocca.Localized(rocca.EINVALID, "mail.oauth.error.scopes", "a generic OAuth2 provider needs its scopes")
		}
		// A public client sends its id in the form; a client with a secret uses HTTP Basic, which
		// RFC 6749 section 2.3.1 requires servers to support. (Auto-detection would send every
		// refused request twice.)
		style := oauth2.AuthStyleInParams
		if cfg.ClientSecretFile != "" {
			style = oauth2.AuthStyleInHeader
		}
		return Provider{
			Name:        ProviderGeneric,
			Endpoint:    oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, DeviceAuthURL: cfg.DeviceURL, AuthStyle: style},
			Scopes:      cfg.Scopes,
			DeviceGrant: cfg.DeviceURL != "",
		}, nil
	}
	return Provider{}, rocca.Localized(rocca.EINVALID, "mail.oauth.error.provider",
		"the OAuth2 provider must be microsoft, google or generic", cfg.Provider)
}

// validTenant accepts a GUID, a domain, or one of Microsoft's aliases (organizations, common).
func validTenant(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Preset fills in the servers of a common mail provider for a password account: what the installer
// offers before asking for host, port and security by hand. Hosts containing "{domain}" take the
// domain of the mailbox address.
type Preset struct {
	Name  string // stable id, e.g. "aruba-pec"
	Label string // shown as is (a brand name)
	PEC   bool   // certified mail (posta elettronica certificata)
	IMAP  Server
	SMTP  Server
}

// Presets lists the password-account presets of common Italian providers. Where each value comes
// from (checked against the provider's own guides where they could be read):
//   - Aruba (domain mail): imaps.aruba.it and smtps.aruba.it, SSL — host names from Aruba's guides
//     (guide.hosting.aruba.it); ports are the implicit-TLS standards 993/465.
//   - Aruba PEC: smtps.pec.aruba.it is named by guide.pec.it as the required outgoing server;
//     imaps.pec.aruba.it and the ports 993/465 follow the same scheme (not read in a guide).
//   - Legalmail (InfoCert PEC): mbox.cert.legalmail.it and sendm.cert.legalmail.it are named by
//     help.infocert.it; ports 993/465 are the implicit-TLS standards (not read in a guide).
//   - Register.it: outgoing mail is authsmtp.<domain> (Register.it service terms); the port is not
//     documented there and incoming mail depends on the plan, so the IMAP host is left to the user.
//   - Microsoft 365 and Google: the presets of the OAuth2 providers.
func Presets() []Preset {
	return []Preset{
		{Name: "microsoft365", Label: "Microsoft 365", IMAP: Server{"outlook.office365.com", 993, SecurityTLS}, SMTP: Server{"smtp.office365.com", 587, SecurityStartTLS}},
		{Name: "google", Label: "Google Workspace / Gmail", IMAP: Server{"imap.gmail.com", 993, SecurityTLS}, SMTP: Server{"smtp.gmail.com", 587, SecurityStartTLS}},
		{Name: "aruba", Label: "Aruba", IMAP: Server{"imaps.aruba.it", 993, SecurityTLS}, SMTP: Server{"smtps.aruba.it", 465, SecurityTLS}},
		{Name: "aruba-pec", Label: "Aruba PEC", PEC: true, IMAP: Server{"imaps.pec.aruba.it", 993, SecurityTLS}, SMTP: Server{"smtps.pec.aruba.it", 465, SecurityTLS}},
		{Name: "legalmail", Label: "Legalmail (InfoCert PEC)", PEC: true, IMAP: Server{"mbox.cert.legalmail.it", 993, SecurityTLS}, SMTP: Server{"sendm.cert.legalmail.it", 465, SecurityTLS}},
		{Name: "register", Label: "Register.it", SMTP: Server{"authsmtp.{domain}", 587, SecurityStartTLS}},
	}
}

// PresetFor returns the preset called name with "{domain}" replaced by the domain of address.
func PresetFor(name, address string) (Preset, bool) {
	_, domain, _ := strings.Cut(address, "@")
	for _, p := range Presets() {
		if p.Name == name {
			p.IMAP.Host = strings.ReplaceAll(p.IMAP.Host, "{domain}", domain)
			p.SMTP.Host = strings.ReplaceAll(p.SMTP.Host, "{domain}", domain)
			return p, true
		}
	}
	return Preset{}, false
}
