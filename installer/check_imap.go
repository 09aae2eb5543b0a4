package installer

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/client"

	"github.com/rocca-pa/rocca/internal/config"
)

// checkIMAP logs in to the helpdesk mailbox and opens its folder, read-only.
func checkIMAP(ctx context.Context, in Input) Result {
	h := in.Config.Helpdesk
	switch {
	case !h.Enabled:
		return ok("installer.check.imap.disabled")
	case h.IMAPHost == "":
		return warn("installer.check.imap.not_configured").fix("installer.fix.imap.configure")
	}
	pw, err := password(in.IMAPPassword, h.IMAPPasswordFile)
	if err != nil {
		return block("installer.check.imap.password_file", h.IMAPPasswordFile, errorText(err)).fix("installer.fix.imap.password_file", h.IMAPPasswordFile)
	}
	s := mailServer{host: h.IMAPHost, port: h.IMAPPort, security: h.IMAPSecurity, user: h.IMAPUser, password: pw}
	if err := probeIMAP(ctx, in.Sys, s, h.IMAPFolder); err != nil {
		return block("installer.check.imap.failed", h.IMAPHost, h.IMAPPort, errorText(err)).fix(imapFix(h), h.IMAPHost, h.IMAPPort)
	}
	if isPEC(h.IMAPHost) {
		return warn("installer.check.imap.pec", h.IMAPUser, h.IMAPHost).fix("installer.fix.imap.pec")
	}
	return ok("installer.check.imap.ok", h.IMAPUser, h.IMAPHost, h.IMAPFolder)
}

// imapFix picks the hint: Microsoft 365 needs OAuth2, PEC providers have their own servers.
func imapFix(h config.Helpdesk) string {
	switch {
	case isMicrosoft(h.IMAPHost):
		return "installer.fix.imap.microsoft"
	case isPEC(h.IMAPHost):
		return "installer.fix.imap.pec_login"
	}
	return "installer.fix.imap.failed"
}

func probeIMAP(ctx context.Context, sys System, s mailServer, folder string) error {
	ctx, cancel := context.WithTimeout(ctx, mailTimeout)
	defer cancel()
	conn, err := s.dial(ctx, sys)
	if err != nil {
		return err
	}
	c, err := client.New(conn)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Logout()
	if s.security == config.SecurityStartTLS {
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if err := c.Login(s.user, s.password); err != nil {
		return fmt.Errorf("LOGIN: %w", err)
	}
	if _, err := c.Select(folder, true); err != nil {
		return fmt.Errorf("SELECT %s: %w", folder, err)
	}
	return nil
}
