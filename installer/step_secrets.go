package installer

// secretSteps write the mail passwords and the OAuth2 client secret typed in the wizard (or copied
// from the answers file) to files only the service reads. A secret not given leaves its file alone.
func secretSteps(a *Answers, paths Paths) []step {
	var steps []step
	if a.IMAPPassword != "" {
		steps = append(steps, secretStep("imap_password", a.Config.Helpdesk.IMAPPasswordFile, a.IMAPPassword))
	}
	if a.SMTPPassword != "" && a.Config.Mail.SMTPPasswordFile != a.Config.Helpdesk.IMAPPasswordFile {
		steps = append(steps, secretStep("smtp_password", a.Config.Mail.SMTPPasswordFile, a.SMTPPassword))
	}
	h := a.Config.Helpdesk
	if a.OAuth2ClientSecret != "" && h.OAuth2ClientSecretFile != "" {
		steps = append(steps, secretStep("oauth2_secret", h.OAuth2ClientSecretFile, a.OAuth2ClientSecret))
	}
	return steps
}

func secretStep(id, path, secret string) step {
	return fileStep{id: id, path: path, mode: 0o600, owner: ownerService,
		content: func() ([]byte, error) { return []byte(secret + "\n"), nil }}
}
