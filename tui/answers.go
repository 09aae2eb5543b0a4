package tui

import (
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
)

// answers turns the typed values (defaults where left empty) into the installer's answers.
func (f *forms) answers() *installer.Answers {
	byValue := map[*string]question{}
	for _, p := range f.pages() {
		for _, q := range p.questions {
			if q.str != nil {
				byValue[q.str] = q
			}
		}
	}
	get := func(p *string) string { return byValue[p].answer() }
	v, def := f.v, f.def
	c := cloneConfig(def.Config)
	a := &installer.Answers{Config: c, Admin: config.Admin{Email: get(&v.email), Name: get(&v.adminName)}, AdminPassword: v.password}
	c.Municipality.Name, c.Municipality.IPACode = get(&v.name), get(&v.ipa)
	f.setServer(c, get(&v.host), config.TLSMode(v.tls), get(&v.certFile), get(&v.keyFile), a.Admin.Email)
	c.VPN.Enabled, c.VPN.ListenPort, c.VPN.Subnet = v.vpn, atoi(get(&v.vpnPort)), get(&v.subnet)
	c.VPN.LAN = append([]string{}, splitList(get(&v.lan))...)
	c.Meetings.Enabled, c.Meetings.PublicIP, c.Meetings.UDPPort = v.meetings, get(&v.publicIP), atoi(get(&v.mediaPort))
	switch {
	case v.mailbox != "now":
		c.Helpdesk.IMAPHost = ""
		if c.Helpdesk.IMAPAuth == config.AuthOAuth2 {
			passwordMailbox(c)
		}
	case isOAuth2(v.provider):
		f.oauth2Mailbox(a, oauth2Mailbox{provider: v.provider, address: get(&v.address), tenant: get(&v.tenant),
			clientID: get(&v.clientID), secret: v.clientSecret, imap: get(&v.oauthIMAP), smtp: get(&v.oauthSMTP),
			authURL: get(&v.authURL), tokenURL: get(&v.tokenURL), deviceURL: get(&v.deviceURL), scopes: get(&v.scopes)})
	default:
		if c.Helpdesk.IMAPAuth == config.AuthOAuth2 {
			passwordMailbox(c)
		}
		f.mailbox(a, get(&v.address), get(&v.imap), get(&v.smtp), v.mailPassword)
	}
	return a
}

// setServer sets the [server] keys: the public URL is https even without TLS of our own (then a proxy
// in front provides it and Rocca listens on loopback).
func (f *forms) setServer(c *config.Config, host string, mode config.TLSMode, certFile, keyFile, adminEmail string) {
	s := &c.Server
	s.PublicURL = (&url.URL{Scheme: "https", Host: host}).String()
	s.TLS = mode
	switch {
	case mode == config.TLSOff && s.Listen == ":443":
		s.Listen = "127.0.0.1:8080"
	case mode != config.TLSOff && s.Listen == config.Default().Server.Listen:
		s.Listen = ":443"
	}
	if mode == config.TLSFiles {
		s.CertFile, s.KeyFile = certFile, keyFile
	}
	if mode == config.TLSACME && s.ACMEEmail == "" {
		s.ACMEEmail = adminEmail
	}
}

// mailbox sets [helpdesk] and [mail] for one mailbox used both ways, with the same user and
// password; the security follows the port.
func (f *forms) mailbox(a *installer.Answers, address, imap, smtp, password string) {
	h, m := &a.Config.Helpdesk, &a.Config.Mail
	h.Enabled, h.Address = true, address
	h.IMAPHost, h.IMAPPort, _ = splitServer(imap, 993)
	h.IMAPSecurity = security(h.IMAPHost, h.IMAPPort, 993, 143, config.SecurityTLS)
	h.IMAPUser = address
	m.SMTPHost, m.SMTPPort, _ = splitServer(smtp, 587)
	m.SMTPSecurity = security(m.SMTPHost, m.SMTPPort, 465, 587, config.SecurityStartTLS)
	m.SMTPUser = address
	f.setFrom(a, address)
	if password != "" || h.IMAPPasswordFile == "" {
		h.IMAPPasswordFile = f.paths.IMAPPasswordFile()
		a.IMAPPassword = password
	}
	m.SMTPPasswordFile = h.IMAPPasswordFile
	a.SMTPPassword = a.IMAPPassword
}

// setFrom proposes the sender of Rocca's mail: the helpdesk of the municipality, unless one was set
// for the same mailbox.
func (f *forms) setFrom(a *installer.Answers, address string) {
	m := &a.Config.Mail
	if m.From == "" || f.def.Config.Helpdesk.Address != address {
		m.From = (&mail.Address{Name: "Helpdesk " + a.Config.Municipality.Name, Address: address}).String()
	}
}

// security picks TLS for the implicit-TLS port, STARTTLS for the submission port, none for a
// server on this machine, else other.
func security(host string, port, tlsPort, startTLSPort int, other config.Security) config.Security {
	switch {
	case port == tlsPort:
		return config.SecurityTLS
	case port == startTLSPort || port == 25:
		return config.SecurityStartTLS
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() || host == "localhost" {
		return config.SecurityNone
	}
	return other
}

func cloneConfig(c *config.Config) *config.Config {
	n := *c
	n.VPN.DNS = slices.Clone(c.VPN.DNS)
	n.VPN.LAN = slices.Clone(c.VPN.LAN)
	n.Helpdesk.AllowedDomains = slices.Clone(c.Helpdesk.AllowedDomains)
	n.Helpdesk.OAuth2Scopes = slices.Clone(c.Helpdesk.OAuth2Scopes)
	n.Mail.OAuth2Scopes = slices.Clone(c.Mail.OAuth2Scopes)
	return &n
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// hostOf is the host (and port, if any) of a URL.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
