package helpdesk

import (
	"testing"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
	"github.com/rocca-pa/rocca/internal/config"
)

func TestConfigFrom(t *testing.T) {
	c := config.Default()
	c.Server.PublicURL = "https://rocca.comune.example.it"
	c.Server.DataDir = t.TempDir()
	c.Helpdesk.Address = "helpdesk@comune.example.it"
	c.Helpdesk.AllowedDomains = []string{"comune.example.it"}
	c.Mail.From = "Assistenza informatica <helpdesk@comune.example.it>"
	cfg := ConfigFrom(c)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.MessageIDDomain != "rocca.comune.example.it" || cfg.Name != "Assistenza informatica" || cfg.AllowedDomains[0] != "comune.example.it" {
		t.Errorf("config %+v", cfg)
	}
	// Our Message-IDs in the municipality's own mail domain would make every staff mail "ours".
	c.Server.PublicURL = "https://comune.example.it"
	if err := ConfigFrom(c).Validate(); rocca.ErrorCodeOf(err) != rocca.EINVALID {
		t.Errorf("Message-ID domain equal to the mail domain: %v", err)
	}
	c.Helpdesk.IMAPHost, c.Helpdesk.IMAPUser, c.Helpdesk.IMAPPasswordFile = "imap.example.it", "helpdesk", "/etc/rocca/imap.pw"
	ic := mailin.IMAPConfigFrom(c.Helpdesk)
	if err := ic.Validate(); err != nil || ic.Port != 993 || ic.Security != mailin.SecurityTLS || ic.ProcessedFolder != "Rocca/Elaborati" {
		t.Errorf("IMAP config %+v: %v", ic, err)
	}
	ic.Security = mailin.SecurityNone
	if err := ic.Validate(); rocca.ErrorCodeOf(err) != rocca.EINVALID {
		t.Errorf("password in clear to a remote host: %v", err)
	}
}
