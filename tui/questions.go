package tui

import (
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
)

// kind is how a question is answered.
type kind int

const (
	text kind = iota
	secret
	choice
	yesNo
)

// option is one answer of a choice question.
type option struct{ label, value string }

// question is one field of a page. The same definitions drive the huh form and the accessible
// line prompts.
type question struct {
	kind      kind
	title     string
	desc      string
	def       func() string // the value taken when the answer is left empty; nil for none
	example   string        // shown as placeholder when there is no default
	str       *string
	flag      *bool
	options   []option
	validate  func(string) error
	dependsOn []*string // the default follows these other answers: recompute it when they change
}

// defaultValue is the default, or "".
func (q question) defaultValue() string {
	if q.def == nil {
		return ""
	}
	return q.def()
}

// answer is the given value, or the default when none was typed.
func (q question) answer() string {
	if v := strings.TrimSpace(*q.str); v != "" {
		return v
	}
	return q.defaultValue()
}

// page is one screen of questions; hidden pages are skipped.
type page struct {
	title, desc string
	questions   []question
	hidden      func() bool
}

// values are the raw answers as typed; empty means "the default".
type values struct {
	name, ipa, host, tls, certFile, keyFile string
	email, adminName, password, password2   string
	vpn                                     bool
	vpnPort, subnet, lan                    string
	meetings                                bool
	publicIP, mediaPort                     string
	mailbox, address, imap, mailPassword    string
	smtp                                    string
	// The mailbox's provider (providerPassword, a password preset, or an OAuth2 provider) and the
	// OAuth2 application.
	provider, tenant, clientID, clientSecret string
	oauthIMAP, oauthSMTP                     string // generic OAuth2 provider: its servers
	authURL, tokenURL, deviceURL, scopes     string
}

// providerPassword is a mailbox on any server, signing in with a password.
const providerPassword = "password"

// newValues starts from the defaults: choices and switches take their default, texts stay empty.
func newValues(def *installer.Answers) *values {
	c := def.Config
	v := &values{tls: string(c.Server.TLS), vpn: c.VPN.Enabled, meetings: c.Meetings.Enabled, mailbox: "later", provider: providerPassword}
	if c.Helpdesk.IMAPHost != "" {
		v.mailbox = "now"
		v.provider = installedProvider(c)
	}
	return v
}

// pages builds the questions; t translates, def are the defaults, and hasPassword says whether
// a mailbox password is saved already (so it may be left empty).
func (f *forms) pages() []page {
	t, def, v := f.t, f.def, f.v
	c := def.Config
	return []page{
		{title: t("tui.page.municipality"), desc: t("tui.page.municipality.desc"), questions: []question{
			{kind: text, title: t("tui.q.name"), def: fixed(c.Municipality.Name), example: "Comune di Esempio", str: &v.name, validate: f.required},
			{kind: text, title: t("tui.q.ipa"), desc: t("tui.q.ipa.desc"), def: fixed(c.Municipality.IPACode), example: "c_h501", str: &v.ipa, validate: f.ipaCode},
		}},
		{title: t("tui.page.address"), desc: t("tui.page.address.desc"), questions: []question{
			{kind: text, title: t("tui.q.host"), desc: t("tui.q.host.desc"), def: fixed(hostOf(c.Server.PublicURL)), example: "rocca.comune.esempio.it", str: &v.host, validate: f.hostName},
			{kind: choice, title: t("tui.q.tls"), str: &v.tls, options: []option{
				{t("tui.tls.acme"), string(config.TLSACME)}, {t("tui.tls.self_signed"), string(config.TLSSelfSigned)},
				{t("tui.tls.files"), string(config.TLSFiles)}, {t("tui.tls.off"), string(config.TLSOff)}}},
		}},
		{title: t("tui.page.tls_files"), hidden: func() bool { return v.tls != string(config.TLSFiles) }, questions: []question{
			{kind: text, title: t("tui.q.cert_file"), def: fixed(c.Server.CertFile), example: "/etc/ssl/comune/fullchain.pem", str: &v.certFile, validate: f.file},
			{kind: text, title: t("tui.q.key_file"), def: fixed(c.Server.KeyFile), example: "/etc/ssl/comune/privkey.pem", str: &v.keyFile, validate: f.file},
		}},
		{title: t("tui.page.admin"), desc: t("tui.page.admin.desc"), questions: []question{
			{kind: text, title: t("tui.q.admin_email"), def: fixed(def.Admin.Email), example: "it@comune.esempio.it", str: &v.email, validate: f.email},
			{kind: text, title: t("tui.q.admin_name"), def: fixed(or(def.Admin.Name, t("tui.default_admin_name"))), str: &v.adminName, validate: f.required},
			{kind: secret, title: t("tui.q.admin_password"), desc: t("tui.q.admin_password.desc"), str: &v.password, validate: f.password},
			{kind: secret, title: t("tui.q.admin_password2"), str: &v.password2, validate: f.samePassword},
		}},
		{title: t("tui.page.vpn"), desc: t("tui.page.vpn.desc"), questions: []question{
			{kind: yesNo, title: t("tui.q.vpn_enabled"), flag: &v.vpn},
			{kind: text, title: t("tui.q.vpn_port"), def: fixed(strconv.Itoa(c.VPN.ListenPort)), str: &v.vpnPort, validate: f.port},
			{kind: text, title: t("tui.q.vpn_subnet"), desc: t("tui.q.vpn_subnet.desc"), def: fixed(c.VPN.Subnet), str: &v.subnet, validate: f.subnet},
			{kind: text, title: t("tui.q.vpn_lan"), desc: t("tui.q.vpn_lan.desc"), def: fixed(strings.Join(c.VPN.LAN, ", ")), example: "192.168.1.0/24", str: &v.lan, validate: f.networks},
		}},
		{title: t("tui.page.meetings"), desc: t("tui.page.meetings.desc"), questions: []question{
			{kind: yesNo, title: t("tui.q.meetings_enabled"), flag: &v.meetings},
			{kind: text, title: t("tui.q.public_ip"), desc: t("tui.q.public_ip.desc"), def: fixed(c.Meetings.PublicIP), example: "203.0.113.10", str: &v.publicIP, validate: f.ip},
			{kind: text, title: t("tui.q.media_port"), def: fixed(strconv.Itoa(c.Meetings.UDPPort)), str: &v.mediaPort, validate: f.port},
		}},
		{title: t("tui.page.mailbox"), desc: t("tui.page.mailbox.desc"), questions: []question{
			{kind: choice, title: t("tui.q.mailbox"), str: &v.mailbox, options: []option{{t("tui.mailbox.now"), "now"}, {t("tui.mailbox.later"), "later"}}},
		}},
		{title: t("tui.page.mailbox_provider"), hidden: func() bool { return v.mailbox != "now" }, questions: []question{
			{kind: choice, title: t("tui.q.mail_provider"), desc: t("tui.q.mail_provider.desc"), str: &v.provider, options: f.providerOptions()},
		}},
		{title: t("tui.page.mailbox_details"), hidden: func() bool { return v.mailbox != "now" || isOAuth2(v.provider) }, questions: []question{
			{kind: text, title: t("tui.q.mail_address"), def: fixed(c.Helpdesk.Address), example: "helpdesk@comune.esempio.it", str: &v.address, validate: f.email},
			{kind: text, title: t("tui.q.imap_server"), desc: t("tui.q.server.desc"), def: f.imapDefault, example: "imap.comune.esempio.it", str: &v.imap, validate: f.server, dependsOn: []*string{&v.provider, &v.address}},
			{kind: secret, title: t("tui.q.mail_password"), desc: f.mailPasswordDesc(), str: &v.mailPassword, validate: f.mailPassword},
			{kind: text, title: t("tui.q.smtp_server"), desc: t("tui.q.server.desc"), def: f.smtpDefault(&v.imap), example: "smtp.comune.esempio.it", str: &v.smtp, validate: f.server, dependsOn: []*string{&v.imap, &v.provider, &v.address}},
		}},
		{title: t("tui.page.mailbox_microsoft"), desc: t("tui.page.mailbox_microsoft.desc"), hidden: f.unlessProvider(mailProviderMicrosoft), questions: []question{
			{kind: text, title: t("tui.q.mail_address"), def: fixed(c.Helpdesk.Address), example: "helpdesk@comune.esempio.it", str: &v.address, validate: f.email},
			{kind: text, title: t("tui.q.oauth2_tenant"), desc: t("tui.q.oauth2_tenant.desc"), def: fixed(c.Helpdesk.OAuth2Tenant), example: "comune.esempio.it", str: &v.tenant, validate: f.tenant},
			{kind: text, title: t("tui.q.oauth2_client_id"), desc: t("tui.q.oauth2_client_id.desc"), def: f.clientIDDefault, str: &v.clientID, validate: f.required},
			{kind: secret, title: t("tui.q.oauth2_secret"), desc: f.clientSecretDesc(false), str: &v.clientSecret},
		}},
		{title: t("tui.page.mailbox_google"), desc: t("tui.page.mailbox_google.desc"), hidden: f.unlessProvider(mailProviderGoogle), questions: []question{
			{kind: text, title: t("tui.q.mail_address"), def: fixed(c.Helpdesk.Address), example: "helpdesk@comune.esempio.it", str: &v.address, validate: f.email},
			{kind: text, title: t("tui.q.oauth2_client_id"), desc: t("tui.q.oauth2_client_id.desc"), def: f.clientIDDefault, str: &v.clientID, validate: f.required},
			{kind: secret, title: t("tui.q.oauth2_secret"), desc: f.clientSecretDesc(true), str: &v.clientSecret, validate: f.clientSecretRequired},
		}},
		{title: t("tui.page.mailbox_generic"), desc: t("tui.page.mailbox_generic.desc"), hidden: f.unlessProvider(mailProviderGeneric), questions: []question{
			{kind: text, title: t("tui.q.mail_address"), def: fixed(c.Helpdesk.Address), example: "helpdesk@comune.esempio.it", str: &v.address, validate: f.email},
			{kind: text, title: t("tui.q.imap_server"), desc: t("tui.q.server.desc"), def: fixed(server(c.Helpdesk.IMAPHost, c.Helpdesk.IMAPPort, 993)), example: "imap.comune.esempio.it", str: &v.oauthIMAP, validate: f.server},
			{kind: text, title: t("tui.q.smtp_server"), desc: t("tui.q.server.desc"), def: f.smtpDefault(&v.oauthIMAP), example: "smtp.comune.esempio.it", str: &v.oauthSMTP, validate: f.server, dependsOn: []*string{&v.oauthIMAP}},
			{kind: text, title: t("tui.q.oauth2_auth_url"), def: f.installedOAuth2(c.Helpdesk.OAuth2AuthURL), example: "https://login.esempio.it/authorize", str: &v.authURL, validate: f.endpoint},
			{kind: text, title: t("tui.q.oauth2_token_url"), def: f.installedOAuth2(c.Helpdesk.OAuth2TokenURL), example: "https://login.esempio.it/token", str: &v.tokenURL, validate: f.endpoint},
			{kind: text, title: t("tui.q.oauth2_device_url"), desc: t("tui.q.oauth2_device_url.desc"), def: f.installedOAuth2(c.Helpdesk.OAuth2DeviceURL), example: "https://login.esempio.it/device", str: &v.deviceURL, validate: f.optionalEndpoint},
			{kind: text, title: t("tui.q.oauth2_scopes"), desc: t("tui.q.oauth2_scopes.desc"), def: f.installedOAuth2(strings.Join(c.Helpdesk.OAuth2Scopes, " ")), example: "mail offline_access", str: &v.scopes, validate: f.required},
			{kind: text, title: t("tui.q.oauth2_client_id"), desc: t("tui.q.oauth2_client_id.desc"), def: f.clientIDDefault, str: &v.clientID, validate: f.required},
			{kind: secret, title: t("tui.q.oauth2_secret"), desc: f.clientSecretDesc(false), str: &v.clientSecret},
		}},
	}
}

func fixed(s string) func() string { return func() string { return s } }

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
