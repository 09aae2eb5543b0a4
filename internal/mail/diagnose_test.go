package mail

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"

	"golang.org/x/oauth2"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// TestDiagnose: each usual failure of a sign-in or a live login gets its fix, whatever wraps it,
// and every fix is a key of both catalogs.
func TestDiagnose(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	consent := &oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: "AADSTS65001: The user or administrator has not consented to use the application"}
	cases := []struct {
		name   string
		method string
		err    error
		want   string
	}{
		{"no error", MethodOAuth2, nil, ""},
		{"admin consent missing", MethodOAuth2, fmt.Errorf("mail account helpdesk: refresh the access token: %w", consent), "mail.hint.consent"},
		{"consent missing at device start", MethodOAuth2, rocca.Localized(rocca.EUNAVAILABLE, "mail.device.start_failed",
			"the provider did not start the sign-in: invalid_grant AADSTS65001: consent required", "invalid_grant AADSTS65001: consent required"), "mail.hint.consent"},
		{"wrong tenant", MethodOAuth2, rocca.Localized(rocca.EUNAVAILABLE, "mail.device.start_failed",
			"the provider did not start the sign-in: invalid_request AADSTS90002: Tenant 'comune.example' not found", "x"), "mail.hint.tenant"},
		{"app not in tenant", MethodOAuth2, errors.New(`oauth2: "unauthorized_client" "AADSTS700016: Application with identifier 'x' was not found in the directory"`), "mail.hint.client"},
		{"secret expired", MethodOAuth2, errors.New(`oauth2: "invalid_client" "AADSTS7000222: The provided client secret keys are expired"`), "mail.hint.secret"},
		{"IMAP off for the mailbox", MethodOAuth2, errors.New("imap outlook.office365.com:993: login as helpdesk@x with XOAUTH2: User is authenticated but not connected."), "mail.hint.imap_disabled"},
		{"IMAP refuses a good token", MethodOAuth2, errors.New("imap h:993: login as helpdesk@x with XOAUTH2: AUTHENTICATE failed."), "mail.hint.imap_disabled"},
		{"SMTP AUTH off for the tenant", MethodOAuth2, errors.New("smtp auth: login as a with XOAUTH2: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant"), "mail.hint.smtp_auth_disabled"},
		{"SMTP refuses a good token", MethodOAuth2, errors.New("smtp auth: login as a with XOAUTH2: 535 5.7.3 Authentication unsuccessful"), "mail.hint.smtp_auth_disabled"},
		{"revoked: invalid_grant", MethodOAuth2, errRevoked("helpdesk", "invalid_grant AADSTS70008: the refresh token has expired or was revoked"), "mail.hint.revoked"},
		{"revoked: password changed", MethodOAuth2, errRevoked("helpdesk", "invalid_grant AADSTS50173: the provided grant has expired due to it being revoked"), "mail.hint.revoked"},
		{"revoked: secret expired", MethodOAuth2, errRevoked("helpdesk", "invalid_client AADSTS7000222: the client secret keys are expired"), "mail.hint.secret"},
		{"revoked, wrapped", MethodOAuth2, fmt.Errorf("imap h:993: %w", errRevoked("helpdesk", "invalid_grant")), "mail.hint.revoked"},
		{"never signed in", MethodOAuth2, errNotConnected("helpdesk"), "mail.hint.not_connected"},
		{"key lost after a restore", MethodOAuth2, errKeyLost("helpdesk"), "mail.hint.not_connected"},
		{"Google from a terminal", MethodOAuth2, rocca.Localized(rocca.EINVALID, "mail.device.not_supported", "no device grant", "google", "https://x/admin/mail"), "mail.hint.web_only"},
		{"provider unreachable", MethodOAuth2, fmt.Errorf("mail account helpdesk: refresh the access token: %w",
			&url.Error{Op: "Post", URL: "https://login.microsoftonline.com/t/oauth2/v2.0/token", Err: refused}), "mail.hint.provider_unreachable"},
		{"provider unreachable at device start", MethodOAuth2, rocca.Localized(rocca.EUNAVAILABLE, "mail.device.start_failed",
			"the provider did not start the sign-in: Post \"https://x/devicecode\": dial tcp 10.0.0.1:443: connect: connection refused", "x"), "mail.hint.provider_unreachable"},
		{"provider error without a cause", MethodOAuth2, fmt.Errorf("mail account helpdesk: refresh the access token: %w", errors.New("oauth2: cannot fetch token: 500 Internal Server Error")), ""},
		{"mail server refuses connections", MethodOAuth2, fmt.Errorf("connect to imap.x:993: %w", refused), "mail.hint.unreachable"},
		{"mail server name unknown", MethodPassword, fmt.Errorf("connect: %w", &net.DNSError{Err: "no such host", Name: "imap.x", IsNotFound: true}), "mail.hint.unreachable"},
		{"mail server silent", MethodPassword, fmt.Errorf("imap: %w", context.DeadlineExceeded), "mail.hint.unreachable"},
		{"certificate for another name", MethodPassword, fmt.Errorf("TLS: %w", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "imap.x"}), "mail.hint.tls"},
		{"certificate of an unknown CA", MethodOAuth2, fmt.Errorf("starttls: %w", x509.UnknownAuthorityError{}), "mail.hint.tls"},
		{"password refused (IMAP)", MethodPassword, errors.New("LOGIN: Authentication failed."), "mail.hint.password"},
		{"password refused (SMTP)", MethodPassword, errors.New("AUTH: 535 5.7.8 Authentication credentials invalid"), "mail.hint.password"},
		{"server without OAuth2", MethodOAuth2, fmt.Errorf("AUTHENTICATE: %w: need OAUTHBEARER or XOAUTH2, the server offers PLAIN", ErrNoMechanism), "mail.hint.no_mechanism"},
		{"server without PLAIN", MethodPassword, fmt.Errorf("%w: need PLAIN or LOGIN, the server offers XOAUTH2", ErrNoMechanism), "mail.hint.no_mechanism"},
		{"something else", MethodOAuth2, errors.New("SELECT INBOX: Mailbox doesn't exist"), ""},
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Diagnose(tc.method, tc.err)
			if got != tc.want {
				t.Errorf("Diagnose(%q, %v) = %q, want %q", tc.method, tc.err, got, tc.want)
			}
			for _, lang := range i18n.Languages() {
				if got != "" && !cat.Has(lang, got) {
					t.Errorf("%s is missing in messages.%s.toml", got, lang)
				}
			}
		})
	}
}
