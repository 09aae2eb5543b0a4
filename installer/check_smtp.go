package installer

import (
	"context"
	"fmt"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rocca-pa/rocca/internal/config"
)

// checkSMTP connects to the outbound relay, says EHLO, upgrades with STARTTLS when configured and
// authenticates; it sends no message.
func checkSMTP(ctx context.Context, in Input) Result {
	m := in.Config.Mail
	if m.SMTPHost == "" {
		return warn("installer.check.smtp.not_configured").fix("installer.fix.smtp.configure")
	}
	pw, err := password(in.SMTPPassword, m.SMTPPasswordFile)
	if err != nil {
		return block("installer.check.smtp.password_file", m.SMTPPasswordFile, errorText(err)).fix("installer.fix.imap.password_file", m.SMTPPasswordFile)
	}
	s := mailServer{host: m.SMTPHost, port: m.SMTPPort, security: m.SMTPSecurity, user: m.SMTPUser, password: pw}
	if err := probeSMTP(ctx, in.Sys, s, helloName(in)); err != nil {
		fix := "installer.fix.smtp.failed"
		if isMicrosoft(m.SMTPHost) {
			fix = "installer.fix.smtp.microsoft"
		}
		return block("installer.check.smtp.failed", m.SMTPHost, m.SMTPPort, errorText(err)).fix(fix, m.SMTPHost, m.SMTPPort)
	}
	return ok("installer.check.smtp.ok", m.SMTPHost, m.SMTPPort)
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
	if s.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.user, s.password)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	return c.Quit()
}
