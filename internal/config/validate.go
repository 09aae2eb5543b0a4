package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// keyOf names a key as problems do: section, dot, key. Keys are built rather than written as one
// literal because the repository's catalog test reads any quoted literal of that shape as an i18n
// message key, and the parts own catalog areas named like the sections (vpn, mail, helpdesk).
func keyOf(section, key string) string { return section + "." + key }

// locator says where a key's value came from: a variable of the environment, a line of the file,
// or the defaults.
type locator struct {
	file string
	pos  positions
	env  map[string]string // keyOf("vpn", "lan") -> "ROCCA_VPN_LAN"
	bad  map[string]bool   // keys already reported as undecodable
}

// place fills the location of p from the first of keys that has one; keys may name list elements
// ("vpn.lan[1]").
func (l locator) place(p *Problem, keys ...string) {
	p.File = l.file
	for _, k := range keys {
		base, _, _ := strings.Cut(k, "[")
		if name, ok := l.env[base]; ok {
			p.File, p.Env = "", name
			return
		}
		if at, ok := l.pos[k]; ok {
			p.Line, p.Column = at.line, at.column
			return
		}
	}
}

// has reports whether key was set in the file or the environment.
func (l locator) has(key string) bool {
	_, inEnv := l.env[key]
	_, inFile := l.pos[key]
	return inEnv || inFile
}

// validator collects every problem of a decoded configuration.
type validator struct {
	cfg    *Config
	loc    locator
	routes []netip.Prefix
	ps     Problems
}

func validate(cfg *Config, admin *Admin, loc locator, routes []netip.Prefix) Problems {
	v := &validator{cfg: cfg, loc: loc, routes: routes}
	v.server()
	v.municipality()
	v.vpn()
	v.meetings()
	v.helpdesk()
	v.mail()
	v.ports()
	if admin != nil {
		v.admin(admin)
	}
	return v.ps
}

// add records a problem about key, located at the first of at that has a location (key itself when
// at is empty). Keys whose value was already rejected while decoding are skipped: they hold their
// default, and a second message about it would only confuse.
func (v *validator) add(sev Severity, key string, at []string, msg string, args ...any) {
	base, _, _ := strings.Cut(key, "[")
	if v.loc.bad[base] || v.loc.bad[key] {
		return
	}
	p := Problem{Severity: sev, Key: key, Msg: msg, Args: args}
	v.loc.place(&p, append(at, key)...)
	v.ps = append(v.ps, p)
}

func (v *validator) err(key, msg string, args ...any) { v.add(SeverityError, key, nil, msg, args...) }
func (v *validator) warn(key, msg string, args ...any) {
	v.add(SeverityWarning, key, nil, msg, args...)
}

// required reports key as missing because of the setting at cause.
func (v *validator) required(key, cause, msg string, args ...any) {
	v.add(SeverityError, key, []string{key, cause}, msg, args...)
}

func (v *validator) oneOf(key, value string, allowed ...string) bool {
	if slices.Contains(allowed, value) {
		return true
	}
	v.err(key, "config.one_of", value, strings.Join(allowed, ", "))
	return false
}

func (v *validator) port(key string, n int) bool {
	if n < 1 || n > 65535 {
		v.err(key, "config.port", n)
		return false
	}
	return true
}

func (v *validator) between(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.err(key, "config.range", n, lo, hi)
	}
}

func (v *validator) notEmpty(key, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.err(key, "config.required")
		return false
	}
	return true
}

func (v *validator) server() {
	s := v.cfg.Server
	if _, _, ok := splitHostPort(s.Listen); !ok {
		v.err(keyOf("server", "listen"), "config.hostport", s.Listen, "127.0.0.1:8080")
	}
	if s.MetricsListen != "" {
		if _, _, ok := splitHostPort(s.MetricsListen); !ok {
			v.err(keyOf("server", "metrics_listen"), "config.hostport", s.MetricsListen, "127.0.0.1:9090")
		}
	}
	u, urlOK := v.publicURL(s.PublicURL)
	v.notEmpty(keyOf("server", "data_dir"), s.DataDir)
	if v.oneOf(keyOf("server", "tls"), string(s.TLS), string(TLSOff), string(TLSSelfSigned), string(TLSFiles), string(TLSACME)) {
		v.tls(s, u, urlOK)
	}
	if s.ACMEEmail != "" {
		v.bareEmail(keyOf("server", "acme_email"), s.ACMEEmail)
	}
	// sun_path holds 108 bytes with the terminating NUL: a longer path cannot be bound at all.
	if p := v.cfg.AdminSocketPath(); len(p) > 107 {
		v.add(SeverityError, keyOf("server", "admin_socket"), []string{keyOf("server", "admin_socket"), keyOf("server", "data_dir")},
			"config.socket_too_long", p, 107)
	}
	v.between(keyOf("server", "session_hours"), s.SessionHours, 1, 720)
	if s.MemoryLimitMB != 0 { // 0: no limit
		v.between(keyOf("server", "memory_limit_mb"), s.MemoryLimitMB, 64, 1<<20)
	}
}

func (v *validator) publicURL(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || !validHost(u.Hostname()) || !validURLPort(u.Port()) {
		v.err(keyOf("server", "public_url"), "config.url", raw)
		return nil, false
	}
	// Join links, client configs and e-mails are built from the root of this address.
	if u.Path != "" && u.Path != "/" {
		v.err(keyOf("server", "public_url"), "config.url_path", raw, u.Path)
		return nil, false
	}
	return u, true
}

func (v *validator) tls(s Server, u *url.URL, urlOK bool) {
	switch s.TLS {
	case TLSFiles:
		cause := `server.tls = "files"`
		if s.CertFile == "" {
			v.required(keyOf("server", "cert_file"), keyOf("server", "tls"), "config.required_when", cause)
		} else {
			v.file(keyOf("server", "cert_file"), s.CertFile)
		}
		if s.KeyFile == "" {
			v.required(keyOf("server", "key_file"), keyOf("server", "tls"), "config.required_when", cause)
		} else {
			v.secretFile(keyOf("server", "key_file"), s.KeyFile)
		}
	case TLSACME:
		if urlOK && !acmeHost(u) {
			v.add(SeverityError, keyOf("server", "public_url"), []string{keyOf("server", "public_url"), keyOf("server", "tls")}, "config.acme_url", s.PublicURL)
		}
		if host, _, ok := splitHostPort(s.Listen); ok && isLoopback(host) {
			v.warn(keyOf("server", "listen"), "config.acme_loopback", s.Listen)
		}
	}
}

// acmeHost reports whether a certificate authority can reach and name u: https and a public DNS name.
func acmeHost(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	if u.Scheme != "https" || host == "" || !strings.Contains(host, ".") {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return false
	}
	return host != "localhost" && !strings.HasSuffix(host, ".localhost")
}

func (v *validator) municipality() {
	m := v.cfg.Municipality
	v.notEmpty(keyOf("municipality", "name"), m.Name)
	if m.IPACode != "" && !validIPACode(m.IPACode) {
		v.err(keyOf("municipality", "ipa_code"), "config.ipa_code", m.IPACode)
	}
	v.oneOf(keyOf("municipality", "language"), m.Language, i18n.Languages()...)
}

func (v *validator) vpn() {
	c := v.cfg.VPN
	v.oneOf(keyOf("vpn", "mode"), string(c.Mode), string(VPNAuto), string(VPNKernel), string(VPNUserspace), string(VPNExternal))
	if !validInterface(c.Interface) {
		v.err(keyOf("vpn", "interface"), "config.ifname", c.Interface)
	}
	v.port(keyOf("vpn", "listen_port"), c.ListenPort)
	subnet, subnetOK := v.subnet(c.Subnet)
	if c.Endpoint != "" {
		if host, _, ok := splitHostPort(c.Endpoint); !ok || host == "" {
			v.err(keyOf("vpn", "endpoint"), "config.hostport", c.Endpoint, "vpn.comune.example.it:51820")
		}
	} else if c.Enabled && v.cfg.VPNEndpoint() != "" {
		if host, _, _ := net.SplitHostPort(v.cfg.VPNEndpoint()); isLoopback(host) {
			v.add(SeverityWarning, keyOf("vpn", "endpoint"), []string{keyOf("vpn", "endpoint"), keyOf("server", "public_url")}, "config.endpoint_local", host)
		}
	}
	for i, d := range c.DNS {
		if _, err := netip.ParseAddr(d); err != nil {
			v.err(fmt.Sprintf("vpn.dns[%d]", i), "config.ip", d, "192.168.1.1")
		}
	}
	for i, l := range c.LAN {
		v.prefix(fmt.Sprintf("vpn.lan[%d]", i), l, "192.168.1.0/24")
	}
	v.between(keyOf("vpn", "mtu"), c.MTU, 1280, 1500)
	v.between(keyOf("vpn", "keepalive"), c.Keepalive, 0, 3600)
	if c.Enabled && subnetOK {
		v.subnetRoutes(subnet)
	}
}

func (v *validator) subnet(s string) (netip.Prefix, bool) {
	key := keyOf("vpn", "subnet")
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		v.err(key, "config.cidr", s, "10.86.0.0/24")
	case !p.Addr().Is4():
		v.err(key, "config.subnet_ipv4", s)
	case p.Bits() < 16 || p.Bits() > 30:
		v.err(key, "config.subnet_size", p.Bits())
	case p.Masked() != p:
		v.err(key, "config.host_bits", s, p.Masked().String())
	default:
		if !p.Addr().IsPrivate() && !sharedSpace().Contains(p.Addr()) {
			v.warn(key, "config.subnet_public", s)
		}
		return p, true
	}
	return netip.Prefix{}, false
}

// sharedSpace is 100.64.0.0/10 (RFC 6598), a fine choice for a VPN besides the private ranges.
func sharedSpace() netip.Prefix { return netip.MustParsePrefix("100.64.0.0/10") }

// subnetRoutes warns when the VPN subnet overlaps a network this host already routes to: devices in
// that network, or the server itself, would send traffic to the wrong place.
func (v *validator) subnetRoutes(subnet netip.Prefix) {
	for _, r := range v.routes {
		if r.Bits() == 0 || !r.Overlaps(subnet) {
			continue // a default route overlaps everything and says nothing
		}
		if free, ok := freeSubnet(subnet.Bits(), v.routes); ok {
			v.warn(keyOf("vpn", "subnet"), "config.subnet_route", subnet.String(), r.Masked().String(), free.String())
		} else {
			v.warn(keyOf("vpn", "subnet"), "config.subnet_route_nohint", subnet.String(), r.Masked().String())
		}
	}
}

// freeSubnet proposes a 10.x range of the given size that overlaps none of routes.
func freeSubnet(bits int, routes []netip.Prefix) (netip.Prefix, bool) {
	for i := range 256 {
		second := byte((86 + i) % 256)
		candidate := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, second, 0, 0}), bits)
		if !slices.ContainsFunc(routes, func(r netip.Prefix) bool { return r.Bits() > 0 && r.Overlaps(candidate) }) {
			return candidate, true
		}
	}
	return netip.Prefix{}, false
}

func (v *validator) prefix(key, s, example string) {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		v.err(key, "config.cidr", s, example)
	case p.Masked() != p:
		v.err(key, "config.host_bits", s, p.Masked().String())
	}
}

func (v *validator) meetings() {
	m := v.cfg.Meetings
	v.port(keyOf("meetings", "udp_port"), m.UDPPort)
	v.port(keyOf("meetings", "turn_port"), m.TURNPort)
	v.between(keyOf("meetings", "public_viewers"), m.PublicViewers, 1, 10000)
	if m.PublicIP != "" {
		a, err := netip.ParseAddr(m.PublicIP)
		switch {
		case err != nil:
			v.err(keyOf("meetings", "public_ip"), "config.ip", m.PublicIP, "203.0.113.10")
		case a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || sharedSpace().Contains(a):
			v.warn(keyOf("meetings", "public_ip"), "config.public_ip_private", m.PublicIP)
		}
	}
}

func (v *validator) helpdesk() {
	h := v.cfg.Helpdesk
	if h.Address != "" {
		v.bareEmail(keyOf("helpdesk", "address"), h.Address)
	}
	if h.IMAPHost != "" && !validHost(h.IMAPHost) {
		v.err(keyOf("helpdesk", "imap_host"), "config.host", h.IMAPHost)
	}
	v.port(keyOf("helpdesk", "imap_port"), h.IMAPPort)
	if v.oneOf(keyOf("helpdesk", "imap_security"), string(h.IMAPSecurity), string(SecurityTLS), string(SecurityStartTLS), string(SecurityNone)) {
		v.security(keyOf("helpdesk", "imap_security"), keyOf("helpdesk", "imap_port"), h.IMAPHost, h.IMAPSecurity, h.IMAPPort, 993, 143)
	}
	authOK := v.oneOf(keyOf("helpdesk", "imap_auth"), string(h.IMAPAuth), string(AuthPassword), string(AuthOAuth2))
	if h.IMAPHost != "" {
		// With a mailbox to read, the rest of the connection must be there too.
		need := []struct{ key, value string }{{keyOf("helpdesk", "address"), h.Address}, {keyOf("helpdesk", "imap_user"), h.IMAPUser}}
		if h.IMAPAuth == AuthPassword {
			need = append(need, struct{ key, value string }{keyOf("helpdesk", "imap_password_file"), h.IMAPPasswordFile})
		}
		for _, f := range need {
			if f.value == "" {
				v.required(f.key, keyOf("helpdesk", "imap_host"), "config.required_with", keyOf("helpdesk", "imap_host"))
			}
		}
		if h.Enabled && v.cfg.Mail.SMTPHost == "" {
			v.warn(keyOf("helpdesk", "imap_host"), "config.helpdesk_no_smtp")
		}
	}
	if h.IMAPPasswordFile != "" {
		v.secretFile(keyOf("helpdesk", "imap_password_file"), h.IMAPPasswordFile)
	}
	if authOK && h.IMAPAuth == AuthOAuth2 {
		v.oauth2("helpdesk", keyOf("helpdesk", "imap_auth"), h.OAuth2())
	}
	v.notEmpty(keyOf("helpdesk", "imap_folder"), h.IMAPFolder)
	if v.notEmpty(keyOf("helpdesk", "processed_folder"), h.ProcessedFolder) && h.ProcessedFolder == h.IMAPFolder {
		v.err(keyOf("helpdesk", "processed_folder"), "config.same_folder", keyOf("helpdesk", "imap_folder"))
	}
	for i, d := range h.AllowedDomains {
		if !validHost(d) || !strings.Contains(d, ".") {
			v.err(fmt.Sprintf("helpdesk.allowed_domains[%d]", i), "config.domain", d)
		}
	}
	v.oneOf(keyOf("helpdesk", "external_senders"), h.ExternalSenders, "allow", "hold")
	v.oneOf(keyOf("helpdesk", "closed_reply"), h.ClosedReply, "reopen", "new")
	v.oneOf(keyOf("helpdesk", "notify_new"), h.NotifyNew, "agents", "none")
	v.oneOf(keyOf("helpdesk", "notify_reply"), h.NotifyReply, "assignee", "agents", "none")
	for i, c := range h.Categories {
		if strings.TrimSpace(c) == "" {
			v.err(fmt.Sprintf("helpdesk.categories[%d]", i), "config.required")
		}
	}
	for _, sla := range []struct {
		key   string
		hours int
	}{{"sla_urgent_hours", h.SLAUrgentHours}, {"sla_high_hours", h.SLAHighHours}, {"sla_normal_hours", h.SLANormalHours}, {"sla_low_hours", h.SLALowHours}} {
		v.between(keyOf("helpdesk", sla.key), sla.hours, 1, 24*365)
	}
	v.between(keyOf("helpdesk", "max_message_mb"), h.MaxMessageMB, 1, 500)
	v.between(keyOf("helpdesk", "max_attachment_mb"), h.MaxAttachmentMB, 1, 500)
	v.between(keyOf("helpdesk", "log_retention_days"), h.LogRetentionDays, 1, 3650)
}

func (v *validator) mail() {
	m := v.cfg.Mail
	if m.SMTPHost != "" && !validHost(m.SMTPHost) {
		v.err(keyOf("mail", "smtp_host"), "config.host", m.SMTPHost)
	}
	v.port(keyOf("mail", "smtp_port"), m.SMTPPort)
	if v.oneOf(keyOf("mail", "smtp_security"), string(m.SMTPSecurity), string(SecurityTLS), string(SecurityStartTLS), string(SecurityNone)) {
		v.security(keyOf("mail", "smtp_security"), keyOf("mail", "smtp_port"), m.SMTPHost, m.SMTPSecurity, m.SMTPPort, 465, 587)
	}
	switch {
	case !v.oneOf(keyOf("mail", "smtp_auth"), string(m.SMTPAuth), string(AuthPassword), string(AuthOAuth2), string(AuthHelpdesk)):
	case m.SMTPAuth == AuthPassword:
		if m.SMTPUser != "" && m.SMTPPasswordFile == "" {
			v.required(keyOf("mail", "smtp_password_file"), keyOf("mail", "smtp_user"), "config.required_with", keyOf("mail", "smtp_user"))
		}
	case m.SMTPAuth == AuthOAuth2:
		if m.SMTPHost != "" && m.SMTPUser == "" {
			v.required(keyOf("mail", "smtp_user"), keyOf("mail", "smtp_auth"), "config.required_when", keyOf("mail", "smtp_auth")+` = "oauth2"`)
		}
		v.oauth2("mail", keyOf("mail", "smtp_auth"), m.OAuth2())
	case m.SMTPAuth == AuthHelpdesk:
		// One sign-in for both: the helpdesk mailbox reads and sends.
		if v.cfg.Helpdesk.IMAPAuth != AuthOAuth2 {
			v.add(SeverityError, keyOf("mail", "smtp_auth"), []string{keyOf("mail", "smtp_auth")}, "config.smtp_auth_helpdesk", keyOf("helpdesk", "imap_auth"))
		}
	}
	if m.SMTPPasswordFile != "" {
		v.secretFile(keyOf("mail", "smtp_password_file"), m.SMTPPasswordFile)
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			v.err(keyOf("mail", "from"), "config.from", m.From)
		}
	} else if m.SMTPHost != "" {
		v.required(keyOf("mail", "from"), keyOf("mail", "smtp_host"), "config.required_with", keyOf("mail", "smtp_host"))
	}
}

// oauth2 checks the oauth2_* keys of section, required because of the setting at cause (imap_auth
// or smtp_auth = "oauth2"): what each provider needs, without touching the network.
func (v *validator) oauth2(section, cause string, o OAuth2) {
	when := cause + ` = "oauth2"`
	key := func(k string) string { return keyOf(section, "oauth2_"+k) }
	need := func(k, value string, why string) {
		if strings.TrimSpace(value) == "" {
			v.required(key(k), cause, "config.required_when", why)
		}
	}
	need("provider", o.Provider, when)
	need("client_id", o.ClientID, when)
	if o.Provider != "" && v.oneOf(key("provider"), o.Provider, OAuth2Microsoft, OAuth2Google, OAuth2Generic) {
		byProvider := key("provider") + ` = "` + o.Provider + `"`
		switch o.Provider {
		case OAuth2Microsoft:
			if o.Tenant == "" {
				v.required(key("tenant"), key("provider"), "config.required_when", byProvider)
			} else if !validTenant(o.Tenant) {
				v.err(key("tenant"), "config.oauth2_tenant", o.Tenant)
			}
		case OAuth2Google:
			if o.ClientSecretFile == "" {
				v.required(key("client_secret_file"), key("provider"), "config.required_when", byProvider)
			}
		case OAuth2Generic:
			for _, u := range []struct{ k, value string }{{"auth_url", o.AuthURL}, {"token_url", o.TokenURL}} {
				if u.value == "" {
					v.required(key(u.k), key("provider"), "config.required_when", byProvider)
				} else if !endpointURL(u.value) {
					v.err(key(u.k), "config.oauth2_url", u.value)
				}
			}
			if o.DeviceURL != "" && !endpointURL(o.DeviceURL) {
				v.err(key("device_url"), "config.oauth2_url", o.DeviceURL)
			}
			if len(o.Scopes) == 0 {
				v.required(key("scopes"), key("provider"), "config.required_when", byProvider)
			}
		}
	}
	if o.ClientSecretFile != "" {
		v.secretFile(key("client_secret_file"), o.ClientSecretFile)
	}
}

// validTenant accepts a Microsoft directory id (a GUID), a domain, or organizations/common.
func validTenant(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && r != '-' && r != '.' && r != '_' {
			return false
		}
	}
	return s != ""
}

// endpointURL accepts an absolute https URL, or http for a provider on this machine.
func endpointURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())
}

// security warns about the classic mix-ups: a password sent in clear to another machine, and the
// implicit-TLS port used with STARTTLS or the other way round.
func (v *validator) security(key, portKey, host string, sec Security, port, tlsPort, startTLSPort int) {
	if host == "" {
		return
	}
	if sec == SecurityNone {
		if !isLoopback(host) {
			v.warn(key, "config.plaintext", host)
		}
		return
	}
	switch {
	case port == tlsPort && sec != SecurityTLS:
		v.add(SeverityWarning, key, []string{key, portKey}, "config.port_security", port, key, string(SecurityTLS))
	case port == startTLSPort && sec != SecurityStartTLS:
		v.add(SeverityWarning, key, []string{key, portKey}, "config.port_security", port, key, string(SecurityStartTLS))
	}
}

func (v *validator) admin(a *Admin) {
	if v.notEmpty(keyOf("admin", "email"), a.Email) {
		v.bareEmail(keyOf("admin", "email"), a.Email)
	}
	v.notEmpty(keyOf("admin", "name"), a.Name)
	if a.PasswordFile != "" {
		v.secretFile(keyOf("admin", "password_file"), a.PasswordFile)
	}
}

// claim is a port some listener binds.
type claim struct {
	key, proto, host string // host "" means every address
	port             int
}

// ports reports two listeners on the same port and protocol: the second would fail to start.
func (v *validator) ports() {
	c := v.cfg
	var claims []claim
	if host, port, ok := splitHostPort(c.Server.Listen); ok {
		claims = append(claims, claim{keyOf("server", "listen"), "TCP", host, port})
	}
	if host, port, ok := splitHostPort(c.Server.MetricsListen); ok {
		claims = append(claims, claim{keyOf("server", "metrics_listen"), "TCP", host, port})
	}
	if c.VPN.Enabled {
		claims = append(claims, claim{keyOf("vpn", "listen_port"), "UDP", "", c.VPN.ListenPort})
	}
	if c.Meetings.Enabled {
		// Media also accepts ICE over TCP on the same port; TURN listens on both.
		claims = append(claims,
			claim{keyOf("meetings", "udp_port"), "UDP", "", c.Meetings.UDPPort}, claim{keyOf("meetings", "udp_port"), "TCP", "", c.Meetings.UDPPort},
			claim{keyOf("meetings", "turn_port"), "UDP", "", c.Meetings.TURNPort}, claim{keyOf("meetings", "turn_port"), "TCP", "", c.Meetings.TURNPort})
	}
	reported := map[[2]string]bool{}
	for j, b := range claims {
		for _, a := range claims[:j] {
			pair := [2]string{a.key, b.key}
			if a.key == b.key || a.proto != b.proto || a.port != b.port || !hostsOverlap(a.host, b.host) || reported[pair] {
				continue
			}
			reported[pair] = true
			first, second := a, b
			if !v.loc.has(second.key) && v.loc.has(first.key) {
				first, second = second, first // name the key the user wrote, not the default it runs into
			}
			v.err(second.key, "config.port_clash", second.proto, second.port, first.key)
		}
	}
}

func hostsOverlap(a, b string) bool {
	if a == "" || b == "" || strings.EqualFold(a, b) {
		return true
	}
	ia, errA := netip.ParseAddr(a)
	ib, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return true // a name may resolve to the other address: assume the worst
	}
	return ia.IsUnspecified() || ib.IsUnspecified() || ia == ib
}

func (v *validator) bareEmail(key, s string) {
	a, err := mail.ParseAddress(s)
	switch {
	case err != nil:
		v.err(key, "config.email", s)
	case a.Address != strings.TrimSpace(s):
		v.err(key, "config.email_bare", a.Address)
	}
}

func (v *validator) file(key, path string) bool {
	if msg, args := fileProblem(path); msg != "" {
		v.err(key, msg, args...)
		return false
	}
	return true
}

// secretFile checks a file holding a password: it must be there, and no one else should read it.
func (v *validator) secretFile(key, path string) {
	if v.file(key, path) {
		v.secretMode(key, path)
	}
}

func (v *validator) secretMode(key, path string) {
	st, err := os.Stat(path)
	if err != nil {
		return // reported by file
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		v.warn(key, "config.secret_mode", path, fmt.Sprintf("%04o", perm), path)
	}
}

// fileProblem returns the catalog key and arguments saying why path is not a readable file, or "".
func fileProblem(path string) (string, []any) {
	f, err := os.Open(path)
	if err != nil {
		return fileError(path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "config.file_dir", []any{path}
	}
	return "", nil
}

func fileError(path string, err error) (string, []any) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "config.file_missing", []any{path}
	case errors.Is(err, fs.ErrPermission):
		return "config.file_denied", []any{path}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return "config.file_unreadable", []any{path, err.Error()}
}

// splitHostPort accepts "host:port" and ":port" with a port from 1 to 65535; host may be an IP
// address or a DNS name.
func splitHostPort(s string) (host string, port int, ok bool) {
	host, p, err := net.SplitHostPort(s)
	if err != nil || (host != "" && !validHost(host)) {
		return "", 0, false
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || strings.HasPrefix(p, "+") {
		return "", 0, false
	}
	return host, n, true
}

func validURLPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// validHost accepts an IP address or a DNS name (letters, digits and hyphens in dot-separated labels).
func validHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' {
				return false
			}
		}
	}
	return true
}

func isLoopback(host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.IsLoopback()
	}
	host = strings.ToLower(host)
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// validInterface follows the Linux rules for a name that tools can pass around safely.
func validInterface(s string) bool {
	if s == "" || len(s) > 15 {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// validIPACode accepts the codes of the Indice delle Pubbliche Amministrazioni, e.g. c_h501.
func validIPACode(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && r != '_' {
			return false
		}
	}
	return s != ""
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
