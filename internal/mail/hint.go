package mail

import "strings"

// hints map what providers and servers say in their refusals to the usual fix, as catalog keys.
// Microsoft's AADSTS codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
var hints = []struct {
	needles []string
	key     string
}{
	{[]string{"AADSTS65001", "consent_required", "AADSTS90094", "AADSTS90008"}, "mail.hint.consent"},
	{[]string{"AADSTS90002", "AADSTS900023", "AADSTS90023"}, "mail.hint.tenant"},
	{[]string{"AADSTS700016", "unauthorized_client"}, "mail.hint.client"},
	{[]string{"AADSTS7000215", "AADSTS7000222", "invalid_client"}, "mail.hint.secret"},
	{[]string{"5.7.139", "SmtpClientAuthentication"}, "mail.hint.smtp_auth_disabled"},
}

// Hint returns the catalog key of the usual fix for a failed sign-in or login, or "": admin
// consent missing, wrong tenant or client, an expired secret, SMTP AUTH disabled for the tenant,
// IMAP refused with a valid token (IMAP disabled for the mailbox), or a refused password. The
// installer, `rocca doctor` and the admin page show it under the error.
func Hint(method, errText string) string {
	for _, h := range hints {
		for _, n := range h.needles {
			if strings.Contains(errText, n) {
				return h.key
			}
		}
	}
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
