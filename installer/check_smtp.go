package installer

import (
	"context"
	"fmt"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail"
)

// checkSMTP connects to the outbound relay, says EHLO, upgrades with STARTTLS when configured and
// authenticates, with the password or the stored OAuth2 sign-in; it sends no message.
func checkSMTP(ctx context.Context, in Input) Result {
	m := in.Config.Mail
	if m.SMTPHost == "" {
		return warn("installer.check.smtp.not_configured").fix("installer.fix.smtp.configure")
	}
	s := mailServer{host: m.SMTPHost, port: m.SMTPPort, security: m.SMTPSecurity, user: m.SMTPUser}
	switch m.SMTPAuth {
	case config.AuthHelpdesk:
		return checkSMTPOAuth2(ctx, in, s, HelpdeskAccount)
	case config.AuthOAuth2:
		return checkSMTPOAuth2(ctx, in, s, SMTPAccount)
	}
	pw, err := password(in.SMTPPassword, m.SMTPPasswordFile)
	if err != nil {
		return block("installer.check.smtp.password_file", m.SMTPPasswordFile, errorText(err)).fix("installer.fix.imap.password_file", m.SMTPPasswordFile)
	}
	s.password = pw
	if err := probeSMTP(ctx, in.Sys, s, helloName(in)); err != nil {
		return mailFailure(in, "smtp", mail.MethodPassword, "", s, err)
	}
	return ok("installer.check.smtp.ok", m.SMTPHost, m.SMTPPort)
}

// checkSMTPOAuth2 authenticates to the relay with the stored sign-in of account.
func checkSMTPOAuth2(ctx context.Context, in Input, s mailServer, account string) Result {
	accts, who, r := signedIn(ctx, in, account)
	if accts == nil {
		return r
	}
	defer accts.close()
	s.auth = accts.Account(account)
	if err := probeSMTP(ctx, in.Sys, s, helloName(in)); err != nil {
		return mailFailure(in, "smtp", mail.MethodOAuth2, account, s, err)
	}
	return ok("installer.check.smtp.ok_oauth2", s.host, s.port, who)
}

// helloName is the name given in EHLO: this machine's name.
func helloName(in Input) string {
	if h := in.Sys.Hostname(); h != "" {
		return h
	}
	return "localhost"
}

func probeSMTP(ctx context.Context, sys System, s mailServer, hello string) error {
	ctx, cancel := context.WithTimeout(ctx, mailTimeout)
	defer cancel()
	conn, err := s.dial(ctx, sys)
	if err != nil {
		return err
	}
	var c *smtp.Client
	if s.security == config.SecurityStartTLS {
		if c, err = smtp.NewClientStartTLS(conn, s.tlsConfig()); err != nil {
			conn.Close()
			return fmt.Errorf("STARTTLS: %w", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	switch {
	case s.auth != nil:
		_, param := c.Extension("AUTH")
		if err := s.auth.Authenticate(ctx, mail.SMTPMechanisms(param), c.Auth); err != nil {
			return fmt.Errorf("SMTP AUTH: %w", err)
		}
	case s.user != "":
		if err := c.Auth(sasl.NewPlainClient("", s.user, s.password)); err != nil {
			return fmt.Errorf("SMTP AUTH: %w", err)
		}
	}
	return c.Quit()
}
