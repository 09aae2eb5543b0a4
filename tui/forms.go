package tui

import (
	"errors"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/auth"
)

// forms holds the questions' state: the defaults, the typed values and the catalog. Its methods
// validate one answer each, with a message in the user's language.
type forms struct {
	t     func(key string, args ...any) string
	def   *installer.Answers
	v     *values
	paths installer.Paths
}

func (f *forms) fail(key string, args ...any) error { return errors.New(f.t(key, args...)) }

func (f *forms) required(s string) error {
	if strings.TrimSpace(s) == "" {
		return f.fail("tui.error.required")
	}
	return nil
}

func (f *forms) ipaCode(s string) error {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return f.fail("tui.error.ipa")
		}
	}
	return nil
}

func (f *forms) hostName(s string) error {
	if err := f.required(s); err != nil {
		return err
	}
	host := s
	if h, p, err := net.SplitHostPort(s); err == nil {
		if _, err := strconv.Atoi(p); err != nil {
			return f.fail("tui.error.host", s)
		}
		host = h
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" ||
			strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return f.fail("tui.error.host", s)
		}
	}
	return nil
}

func (f *forms) file(s string) error {
	if err := f.required(s); err != nil {
		return err
	}
	if st, err := os.Stat(s); err != nil || st.IsDir() {
		return f.fail("tui.error.file", s)
	}
	return nil
}

func (f *forms) email(s string) error {
	if err := f.required(s); err != nil {
		return err
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return f.fail("tui.error.email", s)
	}
	return nil
}

func (f *forms) password(s string) error {
	if s != "" && utf8.RuneCountInString(s) < auth.MinPasswordLen {
		return f.fail("tui.error.password_short", auth.MinPasswordLen)
	}
	return nil
}

func (f *forms) samePassword(s string) error {
	if s != f.v.password {
		return f.fail("tui.error.password_mismatch")
	}
	return nil
}

func (f *forms) port(s string) error {
	if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 65535 {
		return f.fail("tui.error.port", s)
	}
	return nil
}

func (f *forms) subnet(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Masked() != p || p.Bits() < 16 || p.Bits() > 30 {
		return f.fail("tui.error.subnet", s)
	}
	return nil
}

func (f *forms) networks(s string) error {
	for _, n := range splitList(s) {
		if p, err := netip.ParsePrefix(n); err != nil || p.Masked() != p {
			return f.fail("tui.error.network", n)
		}
	}
	return nil
}

func (f *forms) ip(s string) error {
	if _, err := netip.ParseAddr(s); s != "" && err != nil {
		return f.fail("tui.error.ip", s)
	}
	return nil
}

func (f *forms) server(s string) error {
	if err := f.hostName(s); err != nil {
		return err
	}
	_, _, err := splitServer(s, 1)
	return err
}

// mailPasswordSaved reports whether the installed configuration has a mailbox password file.
func (f *forms) mailPasswordSaved() bool {
	p := f.def.Config.Helpdesk.IMAPPasswordFile
	_, err := os.Stat(p)
	return p != "" && err == nil
}

func (f *forms) mailPasswordDesc() string {
	if f.mailPasswordSaved() {
		return f.t("tui.q.mail_password.keep")
	}
	return f.t("tui.q.mail_password.desc")
}

func (f *forms) mailPassword(s string) error {
	if s == "" && !f.mailPasswordSaved() {
		return f.fail("tui.error.required")
	}
	return nil
}

// smtpDefault is the SMTP server of the chosen preset, the installed one, or the IMAP server's name
// (typed in *imap, else installed) with smtp. for imap.
func (f *forms) smtpDefault(imap *string) func() string {
	return func() string {
		if p, ok := f.preset(); ok && imap == &f.v.imap && p.SMTP.Host != "" {
			return server(p.SMTP.Host, p.SMTP.Port, 587)
		}
		c := f.def.Config.Mail
		if c.SMTPHost != "" {
			return server(c.SMTPHost, c.SMTPPort, 587)
		}
		typed := strings.TrimSpace(*imap)
		if typed == "" {
			typed = f.def.Config.Helpdesk.IMAPHost
		}
		host, _, err := net.SplitHostPort(typed)
		if err != nil {
			host = typed
		}
		if rest, ok := strings.CutPrefix(host, "imap."); ok {
			return "smtp." + rest
		}
		return host
	}
}

// server renders host and port as "host" when the port is the usual one, else "host:port".
func server(host string, port, usual int) string {
	if host == "" || port == usual || port == 0 {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// splitServer reads "host" or "host:port".
func splitServer(s string, usual int) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, usual, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, errors.New(s)
	}
	return host, n, nil
}

// splitList reads "a, b c" as [a b c].
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
}
