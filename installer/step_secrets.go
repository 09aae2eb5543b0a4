package installer

// secretSteps write the mail passwords typed in the wizard (or copied from the answers file) to
// files only the service reads. A password not given leaves its file alone.
func secretSteps(a *Answers, paths Paths) []step {
	var steps []step
	if a.IMAPPassword != "" {
		steps = append(steps, secretStep("imap_password", a.Config.Helpdesk.IMAPPasswordFile, a.IMAPPassword))
	}
	if a.SMTPPassword != "" && a.Config.Mail.SMTPPasswordFile != a.Config.Helpdesk.IMAPPasswordFile {
		steps = append(steps, secretStep("smtp_password", a.Config.Mail.SMTPPasswordFile, a.SMTPPassword))
	}
	return steps
}

func secretStep(id, path, secret string) step {
	return fileStep{id: id, path: path, mode: 0o600, owner: ownerService,
		content: func() ([]byte, error) { return []byte(secret + "\n"), nil }}
}
