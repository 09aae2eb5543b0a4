package installer

import (
	"net/mail"
	"net/netip"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/config"
)

// Answers is everything the installer asks: a whole configuration and the first administrator,
// with the passwords typed (or read from the answers file's password files).
type Answers struct {
	Config        *config.Config
	Admin         config.Admin
	AdminPassword string // "" means: create the admin without a password and print a one-time link
	IMAPPassword  string // written to helpdesk.imap_password_file; "" keeps the file as it is
	SMTPPassword  string // written to mail.smtp_password_file; "" keeps the file as it is
	// OAuth2ClientSecret is written to helpdesk.oauth2_client_secret_file (and serves [mail] too
	// when it names the same file); "" keeps the file as it is.
	OAuth2ClientSecret string
}

// LoadAnswers reads the answers file of an unattended install (a rocca.toml plus an [admin] table).
// A wrong value makes it fail with *config.Problems naming the file, line, key and problem, before
// anything is changed. The mail password files and the helpdesk's OAuth2 client secret file it
// names are read here and copied into Paths.EtcDir by the install, where the service can read them.
func LoadAnswers(path string, env []string, paths Paths) (*Answers, error) {
	cfg, admin, err := config.LoadAnswers(path, env)
	if err != nil {
		return nil, err
	}
	a := &Answers{Config: cfg, Admin: *admin}
	if a.AdminPassword, err = password("", admin.PasswordFile); err != nil {
		return nil, err
	}
	h, m := &cfg.Helpdesk, &cfg.Mail
	shared := m.SMTPPasswordFile != "" && m.SMTPPasswordFile == h.IMAPPasswordFile
	if h.IMAPPasswordFile != "" {
		if a.IMAPPassword, err = password("", h.IMAPPasswordFile); err != nil {
			return nil, err
		}
		h.IMAPPasswordFile = paths.IMAPPasswordFile()
	}
	if m.SMTPPasswordFile != "" {
		if a.SMTPPassword, err = password("", m.SMTPPasswordFile); err != nil {
			return nil, err
		}
		m.SMTPPasswordFile = paths.SMTPPasswordFile()
		if shared {
			m.SMTPPasswordFile = h.IMAPPasswordFile
		}
	}
	if f := h.OAuth2ClientSecretFile; f != "" {
		if a.OAuth2ClientSecret, err = password("", f); err != nil {
			return nil, err
		}
		h.OAuth2ClientSecretFile = paths.OAuth2SecretFile()
		if m.OAuth2ClientSecretFile == f {
			m.OAuth2ClientSecretFile = h.OAuth2ClientSecretFile
		}
	}
	a.Normalize(paths)
	return a, nil
}

// Normalize replaces the development defaults that make no sense on an installed server: the data
// directory (./rocca-data) becomes Paths.DataDir, and with TLS the web server listens on :443
// instead of 127.0.0.1:8080. Under a prefix an absolute data directory moves under it. ACME takes
// the admin's e-mail when none is set.
func (a *Answers) Normalize(paths Paths) {
	s := &a.Config.Server
	def := config.Default().Server
	switch {
	case s.DataDir == def.DataDir || !filepath.IsAbs(s.DataDir):
		s.DataDir = paths.DataDir
	case paths.Prefix != "" && !strings.HasPrefix(s.DataDir, paths.Prefix+string(filepath.Separator)):
		s.DataDir = filepath.Join(paths.Prefix, s.DataDir)
	}
	if s.Listen == def.Listen && s.TLS != config.TLSOff {
		s.Listen = ":443"
	}
	if s.TLS == config.TLSACME && s.ACMEEmail == "" {
		s.ACMEEmail = a.Admin.Email
	}
}

// Validate returns every problem of the answers, errors and warnings. routes are the host's
// networks, for the VPN subnet. A password file the install is about to write is not reported as
// missing.
func (a *Answers) Validate(routes []netip.Prefix) config.Problems {
	var out config.Problems
	for _, p := range a.Config.Validate(routes) {
		if p.Msg == "config.file_missing" && a.writes(p.Key) {
			continue
		}
		out = append(out, p)
	}
	return append(out, a.validateAdmin()...)
}

// writes reports whether the install writes the file the key names.
func (a *Answers) writes(key string) bool {
	switch key {
	case "helpdesk.imap_password_file":
		return a.IMAPPassword != ""
	case "mail.smtp_password_file":
		return a.SMTPPassword != "" || a.IMAPPassword != "" && a.Config.Mail.SMTPPasswordFile == a.Config.Helpdesk.IMAPPasswordFile
	case "helpdesk.oauth2_client_secret_file":
		return a.OAuth2ClientSecret != ""
	case "mail.oauth2_client_secret_file":
		return a.OAuth2ClientSecret != "" && a.Config.Mail.OAuth2ClientSecretFile == a.Config.Helpdesk.OAuth2ClientSecretFile
	}
	return false
}

func (a *Answers) validateAdmin() config.Problems {
	var ps config.Problems
	add := func(key, msg string, args ...any) {
		ps = append(ps, config.Problem{Severity: config.SeverityError, Key: key, Msg: msg, Args: args})
	}
	if addr, err := mail.ParseAddress(a.Admin.Email); err != nil || addr.Address != a.Admin.Email {
		add("admin.email", "config.email", a.Admin.Email)
	}
	if strings.TrimSpace(a.Admin.Name) == "" {
		add("admin.name", "config.required")
	}
	if a.AdminPassword != "" && utf8.RuneCountInString(a.AdminPassword) < auth.MinPasswordLen {
		add("admin.password_file", "installer.answers.password_short", auth.MinPasswordLen)
	}
	return ps
}
