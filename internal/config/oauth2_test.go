package config

import (
	"fmt"
	"testing"
)

func TestOAuth2Rules(t *testing.T) {
	dir := t.TempDir()
	secret := writeFile(t, dir, "client.secret", 0o600)
	openSecret := writeFile(t, dir, "open.secret", 0o644)
	hd := "[helpdesk]\naddress = \"helpdesk@comune.example.it\"\nimap_host = \"outlook.office365.com\"\nimap_user = \"helpdesk@comune.example.it\"\nimap_auth = \"oauth2\"\n"
	ms := hd + "oauth2_provider = \"microsoft\"\noauth2_tenant = \"comune.example.it\"\noauth2_client_id = \"0a1b2c3d\"\n"
	mail := "[mail]\nsmtp_host = \"smtp.office365.com\"\nfrom = \"helpdesk@comune.example.it\"\n"
	checkRules(t, []rule{
		// Microsoft 365: no password file needed, one sign-in shared with SMTP.
		{"microsoft without password", ms + mail + "smtp_auth = \"helpdesk\"\n", "", "", "", 0},
		{"microsoft with a short tenant", hd + "oauth2_provider = \"microsoft\"\noauth2_tenant = \"t\"\noauth2_client_id = \"c\"\n" + mail,
			"", "", "", 0},
		{"unknown method", "[helpdesk]\nimap_auth = \"kerberos\"\n", "helpdesk.imap_auth", "config.one_of", "", 2},
		{"password still needs its file", "[helpdesk]\naddress = \"h@comune.example.it\"\nimap_host = \"m.comune.example.it\"\nimap_user = \"h\"\n" + mail,
			"helpdesk.imap_password_file", "config.required_with", "", 3},
		{"provider missing", hd + "oauth2_client_id = \"c\"\n" + mail, "helpdesk.oauth2_provider", "config.required_when", "", 5},
		{"client id missing", hd + "oauth2_provider = \"microsoft\"\noauth2_tenant = \"t\"\n" + mail, "helpdesk.oauth2_client_id", "config.required_when", "", 5},
		{"unknown provider", hd + "oauth2_provider = \"yahoo\"\noauth2_client_id = \"c\"\n" + mail, "helpdesk.oauth2_provider", "config.one_of", "", 6},
		{"microsoft without tenant", hd + "oauth2_provider = \"microsoft\"\noauth2_client_id = \"c\"\n" + mail, "helpdesk.oauth2_tenant", "config.required_when", "", 6},
		{"microsoft bad tenant", hd + "oauth2_provider = \"microsoft\"\noauth2_tenant = \"comune/x\"\noauth2_client_id = \"c\"\n" + mail,
			"helpdesk.oauth2_tenant", "config.oauth2_tenant", "", 7},
		{"google without secret", hd + "oauth2_provider = \"google\"\noauth2_client_id = \"c\"\n" + mail, "helpdesk.oauth2_client_secret_file", "config.required_when", "", 6},
		{"google with secret", hd + fmt.Sprintf("oauth2_provider = \"google\"\noauth2_client_id = \"c\"\noauth2_client_secret_file = %q\n", secret) + mail, "", "", "", 0},
		{"secret readable by others", ms + fmt.Sprintf("oauth2_client_secret_file = %q\n", openSecret) + mail, "helpdesk.oauth2_client_secret_file", "config.secret_mode", SeverityWarning, 9},
		{"generic complete", hd + "oauth2_provider = \"generic\"\noauth2_client_id = \"c\"\noauth2_auth_url = \"https://id.example.it/auth\"\n" +
			"oauth2_token_url = \"https://id.example.it/token\"\noauth2_scopes = [\"mail\"]\n" + mail, "", "", "", 0},
		{"generic without scopes", hd + "oauth2_provider = \"generic\"\noauth2_client_id = \"c\"\noauth2_auth_url = \"https://id.example.it/auth\"\n" +
			"oauth2_token_url = \"https://id.example.it/token\"\n" + mail, "helpdesk.oauth2_scopes", "config.required_when", "", 6},
		{"generic plain http to another host", hd + "oauth2_provider = \"generic\"\noauth2_client_id = \"c\"\noauth2_auth_url = \"http://id.example.it/auth\"\n" +
			"oauth2_token_url = \"https://id.example.it/token\"\noauth2_scopes = [\"mail\"]\n" + mail, "helpdesk.oauth2_auth_url", "config.oauth2_url", "", 8},
		{"generic http to this machine", hd + "oauth2_provider = \"generic\"\noauth2_client_id = \"c\"\noauth2_auth_url = \"http://127.0.0.1:9000/auth\"\n" +
			"oauth2_token_url = \"http://localhost:9000/token\"\noauth2_device_url = \"http://127.0.0.1:9000/device\"\noauth2_scopes = [\"mail\"]\n" + mail, "", "", "", 0},
		{"smtp helpdesk without helpdesk oauth2", "[mail]\nsmtp_auth = \"helpdesk\"\n", "mail.smtp_auth", "config.smtp_auth_helpdesk", "", 2},
		{"smtp oauth2 needs the user", ms + mail + "smtp_auth = \"oauth2\"\noauth2_provider = \"microsoft\"\noauth2_tenant = \"t\"\noauth2_client_id = \"c\"\n",
			"mail.smtp_user", "config.required_when", "", 12},
		{"smtp oauth2 complete", ms + mail + "smtp_auth = \"oauth2\"\nsmtp_user = \"noreply@comune.example.it\"\noauth2_provider = \"microsoft\"\noauth2_tenant = \"t\"\noauth2_client_id = \"c\"\n",
			"", "", "", 0},
		{"smtp oauth2 without provider", "[mail]\nsmtp_auth = \"oauth2\"\noauth2_client_id = \"c\"\n", "mail.oauth2_provider", "config.required_when", "", 2},
		{"smtp unknown method", "[mail]\nsmtp_auth = \"ntlm\"\n", "mail.smtp_auth", "config.one_of", "", 2},
	})
}
