// Package config owns Rocca's one configuration file, rocca.toml: the Config type with its sections
// ([server], [municipality], [vpn], [meetings], [helpdesk], [mail]), the defaults that let
// `rocca serve` run with no file at all, strict decoding, ROCCA_<SECTION>_<KEY> environment
// overrides, and validation whose every problem names the file, the line and the key and says what is
// allowed, in Italian or English. It also writes a commented file (the sample in docs/ and the file the
// installer writes) and reads the installer's answers file (a rocca.toml plus an [admin] table).
//
// It is imported by cmd/rocca (serve, config check, and every command that needs the data dir or the
// admin socket) and by the installer. The parts receive plain values from cmd/rocca, not this package.
package config

import (
	"net"
	"net/url"
	"path/filepath"
	"strconv"
)

// Config is the whole rocca.toml. The toml tags are the key names of DESIGN.md: a contract shared
// with the docs, the installer and the tests.
type Config struct {
	Server       Server       `toml:"server"`
	Municipality Municipality `toml:"municipality"`
	VPN          VPN          `toml:"vpn"`
	Meetings     Meetings     `toml:"meetings"`
	Helpdesk     Helpdesk     `toml:"helpdesk"`
	Mail         Mail         `toml:"mail"`
}

// TLSMode says how the web server gets its certificate.
type TLSMode string

// The TLS modes.
const (
	TLSOff        TLSMode = "off"         // plain HTTP (localhost, or behind a reverse proxy)
	TLSSelfSigned TLSMode = "self-signed" // a certificate generated and kept in the data dir
	TLSFiles      TLSMode = "files"       // cert_file and key_file
	TLSACME       TLSMode = "acme"        // Let's Encrypt through certmagic
)

// VPNMode says which WireGuard implementation the VPN uses.
type VPNMode string

// The VPN modes.
const (
	VPNAuto      VPNMode = "auto"      // kernel if the module is there, otherwise userspace
	VPNKernel    VPNMode = "kernel"    // the Linux kernel module only
	VPNUserspace VPNMode = "userspace" // the embedded wireguard-go
	VPNExternal  VPNMode = "external"  // an interface another program creates and runs; Rocca configures it
)

// Security is how a mail connection (IMAP or SMTP) is protected.
type Security string

// The connection security modes.
const (
	SecurityTLS      Security = "tls"      // TLS from the first byte (IMAPS 993, SMTPS 465)
	SecurityStartTLS Security = "starttls" // plain connection upgraded with STARTTLS
	SecurityNone     Security = "none"     // no encryption: only for a server on this machine
)

// MailAuth is how Rocca signs in to a mail server.
type MailAuth string

// The sign-in methods of [helpdesk] imap_auth and [mail] smtp_auth.
const (
	AuthPassword MailAuth = "password" // user and a password file (0600)
	AuthOAuth2   MailAuth = "oauth2"   // OAuth2 (Microsoft 365, Google Workspace, generic): sign in from the web or `rocca mail login`
	AuthHelpdesk MailAuth = "helpdesk" // [mail] only: the helpdesk mailbox's OAuth2 sign-in also sends the mail
)

// The OAuth2 providers of oauth2_provider.
const (
	OAuth2Microsoft = "microsoft"
	OAuth2Google    = "google"
	OAuth2Generic   = "generic"
)

// OAuth2 is the OAuth2 part of [helpdesk] or [mail] (the oauth2_* keys), gathered for callers.
type OAuth2 struct {
	Provider         string
	Tenant           string
	ClientID         string
	ClientSecretFile string
	AuthURL          string
	TokenURL         string
	DeviceURL        string
	Scopes           []string
}

// Server is the [server] section: the web server, its TLS and the paths.
type Server struct {
	Listen        string  `toml:"listen"`
	PublicURL     string  `toml:"public_url"`
	DataDir       string  `toml:"data_dir"`
	TLS           TLSMode `toml:"tls"`
	CertFile      string  `toml:"cert_file"`
	KeyFile       string  `toml:"key_file"`
	ACMEEmail     string  `toml:"acme_email"`
	MetricsListen string  `toml:"metrics_listen"` // "" turns the metrics endpoint off
	AdminSocket   string  `toml:"admin_socket"`   // "" means <data_dir>/admin.sock
	SessionHours  int     `toml:"session_hours"`
	// MemoryLimitMB is the Go runtime's soft memory limit in MiB (debug.SetMemoryLimit): the
	// garbage collector works harder as the process nears it. 0 leaves Go's default pacing.
	MemoryLimitMB int `toml:"memory_limit_mb"`
}

// Municipality is the [municipality] section: who runs this server.
type Municipality struct {
	Name     string `toml:"name"`
	IPACode  string `toml:"ipa_code"`
	Language string `toml:"language"`
}

// VPN is the [vpn] section: the WireGuard server.
type VPN struct {
	Enabled    bool     `toml:"enabled"`
	Mode       VPNMode  `toml:"mode"`
	Interface  string   `toml:"interface"`
	ListenPort int      `toml:"listen_port"`
	Subnet     string   `toml:"subnet"`
	Endpoint   string   `toml:"endpoint"` // "" means the host of public_url and listen_port
	DNS        []string `toml:"dns"`
	LAN        []string `toml:"lan"`
	MTU        int      `toml:"mtu"`
	Keepalive  int      `toml:"keepalive"` // seconds; 0 turns persistent keepalive off
}

// Meetings is the [meetings] section: the SFU and the embedded TURN server.
type Meetings struct {
	Enabled  bool   `toml:"enabled"`
	UDPPort  int    `toml:"udp_port"`
	PublicIP string `toml:"public_ip"`
	TURNPort int    `toml:"turn_port"`
	// PublicViewers caps the citizens watching one session's public stream at once.
	PublicViewers int `toml:"public_viewers"`
}

// Helpdesk is the [helpdesk] section: the mailbox tickets arrive in. With an empty IMAPHost the
// helpdesk stays idle and reports that it is not configured.
type Helpdesk struct {
	Enabled          bool     `toml:"enabled"`
	Address          string   `toml:"address"`
	IMAPHost         string   `toml:"imap_host"`
	IMAPPort         int      `toml:"imap_port"`
	IMAPSecurity     Security `toml:"imap_security"`
	IMAPAuth         MailAuth `toml:"imap_auth"` // password | oauth2
	IMAPUser         string   `toml:"imap_user"`
	IMAPPasswordFile string   `toml:"imap_password_file"`
	// The OAuth2 sign-in of the mailbox (imap_auth = "oauth2").
	OAuth2Provider         string   `toml:"oauth2_provider"` // microsoft | google | generic
	OAuth2Tenant           string   `toml:"oauth2_tenant"`   // microsoft: directory (tenant) id or domain
	OAuth2ClientID         string   `toml:"oauth2_client_id"`
	OAuth2ClientSecretFile string   `toml:"oauth2_client_secret_file"`
	OAuth2AuthURL          string   `toml:"oauth2_auth_url"`   // generic only
	OAuth2TokenURL         string   `toml:"oauth2_token_url"`  // generic only
	OAuth2DeviceURL        string   `toml:"oauth2_device_url"` // generic only; "" = no terminal sign-in
	OAuth2Scopes           []string `toml:"oauth2_scopes"`     // generic only
	IMAPFolder             string   `toml:"imap_folder"`
	ProcessedFolder        string   `toml:"processed_folder"`
	AllowedDomains         []string `toml:"allowed_domains"` // empty: any sender

	// Policies: what happens to mail and who is told.
	ExternalSenders  string   `toml:"external_senders"` // allow | hold (outside allowed_domains)
	ClosedReply      string   `toml:"closed_reply"`     // reopen | new
	Acknowledgements bool     `toml:"acknowledgements"` // confirm each new ticket to its requester
	NotifyNew        string   `toml:"notify_new"`       // agents | none
	NotifyReply      string   `toml:"notify_reply"`     // assignee | agents | none
	Categories       []string `toml:"categories"`
	SLAUrgentHours   int      `toml:"sla_urgent_hours"`
	SLAHighHours     int      `toml:"sla_high_hours"`
	SLANormalHours   int      `toml:"sla_normal_hours"`
	SLALowHours      int      `toml:"sla_low_hours"`
	MaxMessageMB     int      `toml:"max_message_mb"`
	MaxAttachmentMB  int      `toml:"max_attachment_mb"`
	LogRetentionDays int      `toml:"log_retention_days"`
}

// OAuth2 returns the oauth2_* keys of [helpdesk].
func (h Helpdesk) OAuth2() OAuth2 {
	return OAuth2{h.OAuth2Provider, h.OAuth2Tenant, h.OAuth2ClientID, h.OAuth2ClientSecretFile,
		h.OAuth2AuthURL, h.OAuth2TokenURL, h.OAuth2DeviceURL, h.OAuth2Scopes}
}

// Mail is the [mail] section: outbound SMTP for helpdesk replies and meeting invitations.
type Mail struct {
	SMTPHost         string   `toml:"smtp_host"`
	SMTPPort         int      `toml:"smtp_port"`
	SMTPSecurity     Security `toml:"smtp_security"`
	SMTPAuth         MailAuth `toml:"smtp_auth"` // password | oauth2 | helpdesk
	SMTPUser         string   `toml:"smtp_user"`
	SMTPPasswordFile string   `toml:"smtp_password_file"`
	// The OAuth2 sign-in of the sending mailbox (smtp_auth = "oauth2").
	OAuth2Provider         string   `toml:"oauth2_provider"`
	OAuth2Tenant           string   `toml:"oauth2_tenant"`
	OAuth2ClientID         string   `toml:"oauth2_client_id"`
	OAuth2ClientSecretFile string   `toml:"oauth2_client_secret_file"`
	OAuth2AuthURL          string   `toml:"oauth2_auth_url"`
	OAuth2TokenURL         string   `toml:"oauth2_token_url"`
	OAuth2DeviceURL        string   `toml:"oauth2_device_url"`
	OAuth2Scopes           []string `toml:"oauth2_scopes"`
	From                   string   `toml:"from"`
}

// OAuth2 returns the oauth2_* keys of [mail].
func (m Mail) OAuth2() OAuth2 {
	return OAuth2{m.OAuth2Provider, m.OAuth2Tenant, m.OAuth2ClientID, m.OAuth2ClientSecretFile,
		m.OAuth2AuthURL, m.OAuth2TokenURL, m.OAuth2DeviceURL, m.OAuth2Scopes}
}

// Admin is the [admin] table of the installer's answers file (never of rocca.toml): the first
// administrator.
type Admin struct {
	Email        string `toml:"email"`
	Name         string `toml:"name"`
	PasswordFile string `toml:"password_file"` // "" lets the installer ask or generate one
}

// Default returns the embedded defaults: what `rocca serve` runs with when there is no config file
// (data in ./rocca-data, plain HTTP on 127.0.0.1:8080, helpdesk idle until imap_host is set).
func Default() *Config {
	return &Config{
		Server: Server{
			Listen:        "127.0.0.1:8080",
			PublicURL:     "http://127.0.0.1:8080",
			DataDir:       "rocca-data",
			TLS:           TLSOff,
			MetricsListen: "127.0.0.1:9090",
			SessionHours:  12,
		},
		Municipality: Municipality{
			Name:     "Comune di Esempio",
			Language: "it",
		},
		VPN: VPN{
			Enabled:    true,
			Mode:       VPNAuto,
			Interface:  "rocca0",
			ListenPort: 51820,
			Subnet:     "10.86.0.0/24",
			DNS:        []string{},
			LAN:        []string{"192.168.1.0/24"},
			MTU:        1420,
			Keepalive:  25,
		},
		Meetings: Meetings{
			Enabled:       true,
			UDPPort:       7882,
			TURNPort:      3478,
			PublicViewers: 200,
		},
		Helpdesk: Helpdesk{
			Enabled:         true,
			IMAPPort:        993,
			IMAPSecurity:    SecurityTLS,
			IMAPAuth:        AuthPassword,
			OAuth2Scopes:    []string{},
			IMAPFolder:      "INBOX",
			ProcessedFolder: "Rocca/Elaborati",
			AllowedDomains:  []string{},

			ExternalSenders:  "allow",
			ClosedReply:      "reopen",
			Acknowledgements: true,
			NotifyNew:        "agents",
			NotifyReply:      "assignee",
			Categories:       []string{"hardware", "software", "rete", "account", "stampanti", "telefonia", "altro"},
			SLAUrgentHours:   4,
			SLAHighHours:     8,
			SLANormalHours:   72,
			SLALowHours:      120,
			MaxMessageMB:     40,
			MaxAttachmentMB:  25,
			LogRetentionDays: 21,
		},
		Mail: Mail{
			SMTPPort:     587,
			SMTPSecurity: SecurityStartTLS,
			SMTPAuth:     AuthPassword,
			OAuth2Scopes: []string{},
		},
	}
}

// AdminSocketPath is the Unix socket the CLI uses to reach the running server.
func (c *Config) AdminSocketPath() string {
	if c.Server.AdminSocket != "" {
		return c.Server.AdminSocket
	}
	return filepath.Join(c.Server.DataDir, "admin.sock")
}

// DatabasePath is the one SQLite database, inside the data dir.
func (c *Config) DatabasePath() string {
	return filepath.Join(c.Server.DataDir, "rocca.db")
}

// VPNEndpoint is the host:port devices dial: vpn.endpoint, or the host of public_url with
// vpn.listen_port. It is "" only when neither gives a host.
func (c *Config) VPNEndpoint() string {
	if c.VPN.Endpoint != "" {
		return c.VPN.Endpoint
	}
	u, err := url.Parse(c.Server.PublicURL)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	return net.JoinHostPort(u.Hostname(), strconv.Itoa(c.VPN.ListenPort))
}
