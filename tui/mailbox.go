package tui

import (
	"net"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail"
)

// The helpdesk mailbox's provider: a server with a password (typed, or an Italian provider's
// preset) or an OAuth2 provider, whose sign-in follows the install (screen_mail.go).

// The OAuth2 providers, as values of the provider question.
const (
	mailProviderMicrosoft = config.OAuth2Microsoft
	mailProviderGoogle    = config.OAuth2Google
	mailProviderGeneric   = config.OAuth2Generic
)

func isOAuth2(provider string) bool {
	return provider == mailProviderMicrosoft || provider == mailProviderGoogle || provider == mailProviderGeneric
}

// passwordPresets are the presets of providers that take a password. Microsoft 365 and Google are
// offered as OAuth2 providers instead: Exchange Online refuses passwords.
func passwordPresets() []mail.Preset {
	return slices.DeleteFunc(mail.Presets(), func(p mail.Preset) bool { return p.Name == "microsoft365" || p.Name == "google" })
}

func (f *forms) providerOptions() []option {
	t := f.t
	opts := []option{{t("tui.mail_provider.password"), providerPassword}}
	for _, p := range passwordPresets() {
		opts = append(opts, option{p.Label, p.Name}) // brand names, PEC in the name where it is one
	}
	return append(opts,
		option{t("tui.mail_provider.microsoft"), mailProviderMicrosoft},
		option{t("tui.mail_provider.google"), mailProviderGoogle},
		option{t("tui.mail_provider.generic"), mailProviderGeneric})
}

// installedProvider is the provider of an installed mailbox: its OAuth2 provider, the preset whose
// servers it uses, or a plain password server.
func installedProvider(c *config.Config) string {
	h := c.Helpdesk
	if h.IMAPAuth == config.AuthOAuth2 && isOAuth2(h.OAuth2Provider) {
		return h.OAuth2Provider
	}
	for _, p := range passwordPresets() {
		p, _ = mail.PresetFor(p.Name, h.Address)
		if p.IMAP.Host != "" && strings.EqualFold(p.IMAP.Host, h.IMAPHost) || p.IMAP.Host == "" && strings.EqualFold(p.SMTP.Host, c.Mail.SMTPHost) {
			return p.Name
		}
	}
	return providerPassword
}

// unlessProvider hides a page unless the mailbox is configured now with provider.
func (f *forms) unlessProvider(provider string) func() bool {
	return func() bool { return f.v.mailbox != "now" || f.v.provider != provider }
}

// address is the mailbox address as typed, or its default.
func (f *forms) address() string {
	if a := strings.TrimSpace(f.v.address); a != "" {
		return a
	}
	return f.def.Config.Helpdesk.Address
}

// preset is the chosen password preset, with the mailbox's domain filled in.
func (f *forms) preset() (mail.Preset, bool) {
	if f.v.provider == providerPassword || isOAuth2(f.v.provider) {
		return mail.Preset{}, false
	}
	return mail.PresetFor(f.v.provider, f.address())
}

// imapDefault is the chosen preset's IMAP server, or the installed one.
func (f *forms) imapDefault() string {
	if p, ok := f.preset(); ok && p.IMAP.Host != "" {
		return server(p.IMAP.Host, p.IMAP.Port, 993)
	}
	h := f.def.Config.Helpdesk
	return server(h.IMAPHost, h.IMAPPort, 993)
}

// sameOAuth2 reports whether the installed mailbox signs in with the OAuth2 provider chosen now:
// then its application's settings are the defaults.
func (f *forms) sameOAuth2() bool {
	h := f.def.Config.Helpdesk
	return h.IMAPAuth == config.AuthOAuth2 && h.OAuth2Provider == f.v.provider
}

// installedOAuth2 proposes an installed OAuth2 setting while the provider stays the same.
func (f *forms) installedOAuth2(value string) func() string {
	return func() string {
		if f.sameOAuth2() {
			return value
		}
		return ""
	}
}

func (f *forms) clientIDDefault() string {
	return f.installedOAuth2(f.def.Config.Helpdesk.OAuth2ClientID)()
}

// clientSecretSaved reports whether the installed mailbox has a client secret file for the same
// provider, which an empty answer keeps.
func (f *forms) clientSecretSaved() bool {
	p := f.def.Config.Helpdesk.OAuth2ClientSecretFile
	_, err := os.Stat(p)
	return p != "" && err == nil && f.sameOAuth2()
}

func (f *forms) clientSecretDesc(required bool) string {
	switch {
	case f.clientSecretSaved():
		return f.t("tui.q.oauth2_secret.keep")
	case required:
		return f.t("tui.q.oauth2_secret.desc")
	}
	return f.t("tui.q.oauth2_secret.optional")
}

func (f *forms) clientSecretRequired(s string) error {
	if s == "" && !f.clientSecretSaved() {
		return f.fail("tui.error.required")
	}
	return nil
}

// tenant accepts a directory id (a GUID) or a domain, as Microsoft's login URLs do.
func (f *forms) tenant(s string) error {
	if err := f.required(s); err != nil {
		return err
	}
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") != "" || len(s) > 128 {
		return f.fail("tui.error.tenant", s)
	}
	return nil
}

// endpoint accepts an https URL, or http to this machine (a provider on loopback).
func (f *forms) endpoint(s string) error {
	if err := f.required(s); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())) {
		return f.fail("tui.error.url", s)
	}
	return nil
}

func (f *forms) optionalEndpoint(s string) error {
	if s == "" {
		return nil
	}
	return f.endpoint(s)
}

func loopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// oauth2Mailbox is what the OAuth2 pages asked.
type oauth2Mailbox struct {
	provider, address, tenant, clientID, secret string
	imap, smtp                                  string // generic only
	authURL, tokenURL, deviceURL, scopes        string // generic only
}

// oauth2Mailbox sets [helpdesk] and [mail] for a mailbox that signs in with OAuth2: the helpdesk
// account reads it over IMAP and sends with the same sign-in (smtp_auth = "helpdesk").
func (f *forms) oauth2Mailbox(a *installer.Answers, o oauth2Mailbox) {
	h, m := &a.Config.Helpdesk, &a.Config.Mail
	keepSecret := f.sameOAuth2()
	h.Enabled, h.Address, h.IMAPAuth, h.IMAPUser = true, o.address, config.AuthOAuth2, o.address
	h.IMAPPasswordFile, a.IMAPPassword = "", ""
	h.OAuth2Provider, h.OAuth2ClientID = o.provider, o.clientID
	h.OAuth2Tenant, h.OAuth2AuthURL, h.OAuth2TokenURL, h.OAuth2DeviceURL, h.OAuth2Scopes = "", "", "", "", []string{}
	var imap, smtp mail.Server
	switch o.provider {
	case mailProviderMicrosoft:
		h.OAuth2Tenant = o.tenant
		p, _ := mail.PresetFor("microsoft365", o.address)
		imap, smtp = p.IMAP, p.SMTP
	case mailProviderGoogle:
		p, _ := mail.PresetFor("google", o.address)
		imap, smtp = p.IMAP, p.SMTP
	default:
		h.OAuth2AuthURL, h.OAuth2TokenURL, h.OAuth2DeviceURL = o.authURL, o.tokenURL, o.deviceURL
		h.OAuth2Scopes = append([]string{}, splitList(o.scopes)...)
		imap.Host, imap.Port, _ = splitServer(o.imap, 993)
		imap.Security = string(security(imap.Host, imap.Port, 993, 143, config.SecurityTLS))
		smtp.Host, smtp.Port, _ = splitServer(o.smtp, 587)
		smtp.Security = string(security(smtp.Host, smtp.Port, 465, 587, config.SecurityStartTLS))
	}
	h.IMAPHost, h.IMAPPort, h.IMAPSecurity = imap.Host, imap.Port, config.Security(imap.Security)
	m.SMTPHost, m.SMTPPort, m.SMTPSecurity = smtp.Host, smtp.Port, config.Security(smtp.Security)
	m.SMTPAuth, m.SMTPUser, m.SMTPPasswordFile, a.SMTPPassword = config.AuthHelpdesk, "", "", ""
	f.setFrom(a, o.address)
	switch {
	case o.secret != "":
		h.OAuth2ClientSecretFile, a.OAuth2ClientSecret = f.paths.OAuth2SecretFile(), o.secret
	case !keepSecret:
		h.OAuth2ClientSecretFile = ""
	}
}

// passwordMailbox undoes an OAuth2 sign-in of an earlier install when the mailbox now uses a
// password (or is left for later).
func passwordMailbox(c *config.Config) {
	h, m := &c.Helpdesk, &c.Mail
	h.IMAPAuth = config.AuthPassword
	h.OAuth2Provider, h.OAuth2Tenant, h.OAuth2ClientID, h.OAuth2ClientSecretFile = "", "", "", ""
	h.OAuth2AuthURL, h.OAuth2TokenURL, h.OAuth2DeviceURL, h.OAuth2Scopes = "", "", "", []string{}
	if m.SMTPAuth == config.AuthHelpdesk {
		// The relay took the mailbox's sign-in: without it, it has none (the password page sets
		// the relay again).
		m.SMTPAuth, m.SMTPHost = config.AuthPassword, ""
	}
}
