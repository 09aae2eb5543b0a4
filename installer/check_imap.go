package installer

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/client"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail"
)

// checkIMAP logs in to the helpdesk mailbox, with its password or its stored OAuth2 sign-in, and
// opens its folder, read-only.
func checkIMAP(ctx context.Context, in Input) Result {
	h := in.Config.Helpdesk
	switch {
	case !h.Enabled:
		return ok("installer.check.imap.disabled")
	case h.IMAPHost == "":
		return warn("installer.check.imap.not_configured").fix("installer.fix.imap.configure")
	}
	s := mailServer{host: h.IMAPHost, port: h.IMAPPort, security: h.IMAPSecurity, user: h.IMAPUser}
	if h.IMAPAuth == config.AuthOAuth2 {
		return checkIMAPOAuth2(ctx, in, s)
	}
	pw, err := password(in.IMAPPassword, h.IMAPPasswordFile)
	if err != nil {
		return block("installer.check.imap.password_file", h.IMAPPasswordFile, errorText(err)).fix("installer.fix.imap.password_file", h.IMAPPasswordFile)
	}
	s.password = pw
	if err := probeIMAP(ctx, in.Sys, s, h.IMAPFolder); err != nil {
		return mailFailure(in, "imap", mail.MethodPassword, "", s, err)
	}
	if isPEC(h.IMAPHost) {
		return warn("installer.check.imap.pec", h.IMAPUser, h.IMAPHost).fix("installer.fix.imap.pec")
	}
	return ok("installer.check.imap.ok", h.IMAPUser, h.IMAPHost, h.IMAPFolder)
}

// checkIMAPOAuth2 logs in with the stored sign-in of the helpdesk account, refreshing its access
// token as the server would.
func checkIMAPOAuth2(ctx context.Context, in Input, s mailServer) Result {
	h := in.Config.Helpdesk
	accts, who, r := signedIn(ctx, in, HelpdeskAccount)
	if accts == nil {
		return r
	}
	defer accts.close()
	s.auth = accts.Account(HelpdeskAccount)
	if err := probeIMAP(ctx, in.Sys, s, h.IMAPFolder); err != nil {
		return mailFailure(in, "imap", mail.MethodOAuth2, HelpdeskAccount, s, err)
	}
	return ok("installer.check.imap.ok_oauth2", who, h.IMAPHost, h.IMAPFolder, h.OAuth2Provider)
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
	if s.auth != nil {
		caps, err := c.Capability()
		if err != nil {
			return fmt.Errorf("CAPABILITY: %w", err)
		}
		if err := s.auth.Authenticate(ctx, mail.IMAPMechanisms(caps), c.Authenticate); err != nil {
			return fmt.Errorf("AUTHENTICATE: %w", err)
		}
	} else if err := c.Login(s.user, s.password); err != nil {
		return fmt.Errorf("LOGIN: %w", err)
	}
	if _, err := c.Select(folder, true); err != nil {
		return fmt.Errorf("SELECT %s: %w", folder, err)
	}
	return nil
}
