package helpdesk

import (
	"maps"
	"slices"
	"testing"
	"time"

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

// The policies of [helpdesk] reach the service; the file's defaults are the service's defaults.
func TestConfigFromPolicies(t *testing.T) {
	c := config.Default()
	got := ConfigFrom(c)
	want := DefaultConfig()
	if got.ExternalSenders != want.ExternalSenders || got.ClosedReply != want.ClosedReply || got.DisableAcks ||
		got.NotifyNew != want.NotifyNew || got.NotifyReply != want.NotifyReply || !slices.Equal(got.Categories, want.Categories) ||
		!maps.Equal(got.SLA, want.SLA) || got.MaxMessage != want.MaxMessage || got.MaxAttachment != want.MaxAttachment ||
		got.LogRetention != want.LogRetention {
		t.Errorf("defaults of rocca.toml:\n%+v\nwant the service's:\n%+v", got, want)
	}
	h := &c.Helpdesk
	h.ExternalSenders, h.ClosedReply, h.Acknowledgements = ExternalHold, ClosedNew, false
	h.NotifyNew, h.NotifyReply, h.Categories = NotifyNone, NotifyAgents, []string{"protocollo"}
	h.SLAUrgentHours, h.SLALowHours, h.MaxMessageMB, h.MaxAttachmentMB, h.LogRetentionDays = 2, 240, 10, 5, 90
	got = ConfigFrom(c)
	if got.ExternalSenders != ExternalHold || got.ClosedReply != ClosedNew || !got.DisableAcks ||
		got.NotifyNew != NotifyNone || got.NotifyReply != NotifyAgents || !slices.Equal(got.Categories, []string{"protocollo"}) ||
		got.SLA[PriorityUrgent] != 2*time.Hour || got.SLA[PriorityLow] != 240*time.Hour || got.SLA[PriorityNormal] != 72*time.Hour ||
		got.MaxMessage != 10<<20 || got.MaxAttachment != 5<<20 || got.LogRetention != 90*24*time.Hour {
		t.Errorf("policies not applied: %+v", got)
	}
}
