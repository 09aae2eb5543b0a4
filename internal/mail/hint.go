package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/rocca-pa/rocca"
)

// The one place that reads what identity providers and mail servers say when they refuse a
// sign-in or a login, and turns it into the usual fix, as a catalog key ("mail.hint.*"). The admin
// page, `rocca mail status`, the installer's mail step and `rocca doctor` show that fix under the
// error.

// hints map needles in a refusal's text to the usual fix. The first matching row wins, so the
// specific codes come before the generic ones (an "invalid_grant" that carries AADSTS65001 is a
// missing consent, not a revoked sign-in).
// Microsoft's AADSTS codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
var hints = []struct {
	needles []string
	key     string
}{
	{[]string{"AADSTS65001", "consent_required", "AADSTS90094", "AADSTS90008"}, "mail.hint.consent"},
	{[]string{"AADSTS90002", "AADSTS900023", "AADSTS90023", "AADSTS50020"}, "mail.hint.tenant"},
	{[]string{"AADSTS700016", "unauthorized_client"}, "mail.hint.client"},
	{[]string{"AADSTS7000215", "AADSTS7000222", "invalid_client"}, "mail.hint.secret"},
	{[]string{"5.7.139", "SmtpClientAuthentication"}, "mail.hint.smtp_auth_disabled"},
	// Exchange Online accepts the token but has IMAP turned off for the mailbox.
	{[]string{"User is authenticated but not connected"}, "mail.hint.imap_disabled"},
	// The stored refresh token is dead: consent revoked, password changed, token expired.
	{[]string{"AADSTS50173", "AADSTS70008", "AADSTS700082", "AADSTS50133", "invalid_grant"}, "mail.hint.revoked"},
}

// Hint returns the catalog key of the usual fix for the text of a failed sign-in or login, or "":
// admin consent missing, wrong tenant or client, an expired secret, SMTP AUTH disabled for the
// tenant, IMAP refused with a valid token (IMAP disabled for the mailbox), a revoked sign-in, or a
// refused password. Diagnose does the same for an error value and knows more.
func Hint(method, errText string) string {
	if k := hintNeedle(errText); k != "" {
		return k
	}
	return hintRefused(method, errText)
}

// hintNeedle is the fix for a refusal that names its cause.
func hintNeedle(errText string) string {
	for _, h := range hints {
		for _, n := range h.needles {
			if strings.Contains(errText, n) {
				return h.key
			}
		}
	}
	return ""
}

// hintRefused guesses from a refusal that names no cause: a refused password, or a token a
// server refuses although the provider issued it (IMAP or SMTP AUTH turned off).
func hintRefused(method, errText string) string {
	if strings.Contains(errText, "refresh the access token") {
		return "" // the provider could not be reached: nothing about the mailbox to fix
	}
	lower := strings.ToLower(errText)
	refused := strings.Contains(lower, "authenticat") || strings.Contains(lower, "535") || strings.Contains(lower, "login")
	switch {
	case !refused:
		return ""
	case method == MethodPassword:
		return "mail.hint.password"
	case strings.Contains(lower, "smtp"):
		return "mail.hint.smtp_auth_disabled"
	case strings.Contains(errText, MechXOAuth2) || strings.Contains(errText, MechOAuthBearer):
		return "mail.hint.imap_disabled"
	}
	return ""
}

// Diagnose returns the catalog key of the usual fix for err, the failure of a sign-in or a live
// login of an account signing in with method (MethodPassword or MethodOAuth2), or "" when there is
// nothing more useful to say than the error itself. Besides the texts Hint reads, it knows the
// account's own states (not signed in, revoked, key lost), a server that offers no mechanism for
// the method, a provider that cannot be reached, a mail server that cannot be reached, and a
// certificate the server's name does not match.
func Diagnose(method string, err error) string {
	if err == nil {
		return ""
	}
	var re *rocca.Error
	if errors.As(err, &re) {
		switch re.Key {
		case "mail.account.error.revoked":
			// The provider's reason may say more than "revoked" (an expired secret, a removed app).
			if len(re.Args) > 1 {
				if k := Hint(method, fmt.Sprint(re.Args[1])); k != "" && k != "mail.hint.password" {
					return k
				}
			}
			return "mail.hint.revoked"
		case "mail.account.error.not_connected", "mail.account.error.key_lost", "mail.account.error.changed":
			return "mail.hint.not_connected"
		case "mail.device.not_supported":
			return "mail.hint.web_only"
		}
	}
	if errors.Is(err, ErrNoMechanism) {
		return "mail.hint.no_mechanism"
	}
	text := err.Error()
	// Talking to the identity provider, not to the mail server.
	provider := strings.Contains(text, "refresh the access token") || strings.Contains(text, "did not start the sign-in")
	switch {
	case hintNeedle(text) != "":
		return hintNeedle(text)
	case provider && (isNetworkError(err) || networkText(text)):
		return "mail.hint.provider_unreachable"
	case provider:
		return ""
	case isCertificateError(err):
		return "mail.hint.tls"
	case isNetworkError(err):
		return "mail.hint.unreachable"
	}
	return hintRefused(method, text)
}

// isNetworkError reports whether err is about reaching the server at all: the name does not
// resolve, nobody listens, or the connection timed out.
func isNetworkError(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	var ne net.Error
	return errors.As(err, &dns) || errors.As(err, &op) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

// networkText recognises a network failure in an error that kept only its text.
func networkText(text string) bool {
	for _, n := range []string{"dial tcp", "no such host", "connection refused", "i/o timeout", "network is unreachable"} {
		if strings.Contains(text, n) {
			return true
		}
	}
	return false
}

// isCertificateError reports whether the TLS handshake failed on the server's certificate.
func isCertificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) || errors.As(err, &verify)
}
