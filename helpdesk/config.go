package helpdesk

import (
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/config"
)

// Policies for mail from senders outside Config.AllowedDomains (Config.ExternalSenders).
const (
	ExternalAllow = "allow" // open a ticket, marked external
	ExternalHold  = "hold"  // hold the mail in the quarantine until an admin releases it
)

// Policies for a reply to a closed ticket (Config.ClosedReply).
const (
	ClosedReopen = "reopen" // the ticket opens again
	ClosedNew    = "new"    // a new ticket is opened, linked to the closed one
)

// Notification rules (Config.NotifyNew, Config.NotifyReply).
const (
	NotifyNone     = "none"     // nobody
	NotifyAgents   = "agents"   // every enabled agent
	NotifyAssignee = "assignee" // the ticket's assignee (every agent when unassigned: NotifyReply only)
)

// Defaults of Config.
const (
	DefaultAckLimit      = 3
	DefaultAckWindow     = 24 * time.Hour
	DefaultMaxMessage    = 40 << 20
	DefaultMaxAttachment = 25 << 20
	DefaultLogRetention  = 21 * 24 * time.Hour // Italian data-protection guidance on mail metadata
)

// Config tunes the helpdesk. Build it from DefaultConfig and the [helpdesk] section.
type Config struct {
	// Address is the helpdesk mailbox: the From of every mail we send, and never a requester.
	Address string
	// Name is the display name in From ("Helpdesk" in the municipality's language when empty).
	Name string
	// OwnAddresses are further addresses of ours (aliases): mail from them is never answered.
	OwnAddresses []string
	// MessageIDDomain is the right-hand side of our Message-IDs, used by Rocca alone (the host of
	// public_url): mail whose Message-ID ends with it is our own and is never answered.
	MessageIDDomain string
	// PublicURL is the base of links in the mail we send, e.g. "https://rocca.comune.example.it".
	PublicURL string
	// DataDir is the data directory; attachments live in <DataDir>/helpdesk/attachments.
	DataDir string
	// Language of the mail we send (acknowledgements, notifications, reply footers): it or en.
	Language string

	// AllowedDomains are the mail domains whose senders may open tickets; empty: any domain.
	// Users with an account are always allowed, whatever their domain.
	AllowedDomains []string
	// ExternalSenders is ExternalAllow or ExternalHold, for the other senders.
	ExternalSenders string
	// ClosedReply is ClosedReopen or ClosedNew.
	ClosedReply string

	// DisableAcks turns the acknowledgement of new tickets off.
	DisableAcks bool
	// AckLimit acknowledgements at most go to one address within AckWindow.
	AckLimit  int
	AckWindow time.Duration

	// SLA is the time to resolve a ticket, by priority; the due time is creation plus this.
	SLA map[Priority]time.Duration
	// Categories an agent may file a ticket under.
	Categories []string

	// MaxMessage is the largest raw mail parsed (larger ones are quarantined); MaxAttachment the
	// largest attachment kept, from mail or from the web forms.
	MaxMessage    int64
	MaxAttachment int64

	// LogRetention is how long the ingest log and the automatic mail it ignored are kept.
	LogRetention time.Duration

	// NotifyNew says who is told of a new ticket (NotifyAgents or NotifyNone); NotifyReply who is
	// told of a requester's answer (NotifyAssignee, NotifyAgents or NotifyNone).
	NotifyNew   string
	NotifyReply string
}

// DefaultConfig returns the defaults: acknowledgements on (3 per address per 24 h), external
// senders allowed, closed tickets reopened, SLA 4 h / 8 h / 3 days / 5 days by priority.
func DefaultConfig() Config {
	return Config{
		Language:        "it",
		ExternalSenders: ExternalAllow,
		ClosedReply:     ClosedReopen,
		AckLimit:        DefaultAckLimit,
		AckWindow:       DefaultAckWindow,
		SLA: map[Priority]time.Duration{
			PriorityUrgent: 4 * time.Hour,
			PriorityHigh:   8 * time.Hour,
			PriorityNormal: 3 * 24 * time.Hour,
			PriorityLow:    5 * 24 * time.Hour,
		},
		Categories:    []string{"hardware", "software", "rete", "account", "stampanti", "telefonia", "altro"},
		MaxMessage:    DefaultMaxMessage,
		MaxAttachment: DefaultMaxAttachment,
		LogRetention:  DefaultLogRetention,
		NotifyNew:     NotifyAgents,
		NotifyReply:   NotifyAssignee,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Language == "" {
		c.Language = d.Language
	}
	if c.ExternalSenders == "" {
		c.ExternalSenders = d.ExternalSenders
	}
	if c.ClosedReply == "" {
		c.ClosedReply = d.ClosedReply
	}
	if c.AckLimit <= 0 {
		c.AckLimit = d.AckLimit
	}
	if c.AckWindow <= 0 {
		c.AckWindow = d.AckWindow
	}
	if c.SLA == nil {
		c.SLA = d.SLA
	}
	if c.Categories == nil {
		c.Categories = d.Categories
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = d.MaxMessage
	}
	if c.MaxAttachment <= 0 {
		c.MaxAttachment = d.MaxAttachment
	}
	if c.LogRetention <= 0 {
		c.LogRetention = d.LogRetention
	}
	if c.NotifyNew == "" {
		c.NotifyNew = d.NotifyNew
	}
	if c.NotifyReply == "" {
		c.NotifyReply = d.NotifyReply
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.MessageIDDomain = strings.ToLower(strings.TrimSpace(c.MessageIDDomain))
	c.AllowedDomains = slices.Clone(c.AllowedDomains)
	for i, d := range c.AllowedDomains {
		c.AllowedDomains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	c = c.withDefaults()
	if a, err := mail.ParseAddress(c.Address); err != nil || a.Address != c.Address {
		return rocca.Localized(rocca.EINVALID, "helpdesk.config.address", "the helpdesk address is not a valid e-mail address: "+c.Address, c.Address)
	}
	if c.MessageIDDomain == "" || strings.ContainsAny(c.MessageIDDomain, " <>@\t") {
		return rocca.Localized(rocca.EINVALID, "helpdesk.config.message_id_domain", "the Message-ID domain must be a host name used by Rocca alone")
	}
	if strings.EqualFold(c.MessageIDDomain, domainOf(c.Address)) {
		return rocca.Localized(rocca.EINVALID, "helpdesk.config.message_id_domain", "the Message-ID domain must be a host name used by Rocca alone")
	}
	if c.DataDir == "" {
		return rocca.Localized(rocca.EINVALID, "helpdesk.config.data_dir", "the data directory is required")
	}
	if c.Language != "it" && c.Language != "en" {
		return rocca.Localized(rocca.EINVALID, "helpdesk.config.language", "the language must be it or en")
	}
	if !slices.Contains([]string{ExternalAllow, ExternalHold}, c.ExternalSenders) {
		return rocca.Localized(rocca.EINVALID, "helpdesk.config.external", "external_senders must be allow or hold")
	}
	if !slices.Contains([]string{ClosedReopen, ClosedNew}, c.ClosedReply) {
		return rocca.Localized(rocca.EINVALID, "helpdesk.config.closed_reply", "closed_reply must be reopen or new")
	}
	if !slices.Contains([]string{NotifyAgents, NotifyNone}, c.NotifyNew) ||
		!slices.Contains([]string{NotifyAssignee, NotifyAgents, NotifyNone}, c.NotifyReply) {
		return rocca.Localized(rocca.EINVALID, "helpdesk.config.notify", "unknown notification rule")
	}
	for _, p := range Priorities() {
		if c.SLA[p] <= 0 {
			return rocca.Localized(rocca.EINVALID, "helpdesk.config.sla", "every priority needs a positive SLA", string(p))
		}
	}
	return nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// ConfigFrom builds the helpdesk's Config from rocca.toml: the helpdesk address, the allowed
// domains and the policies of [helpdesk], the public URL (whose host names our Message-IDs), the
// data directory and the municipality's language. Zero values (a hand-made Config) keep the
// defaults.
func ConfigFrom(c *config.Config) Config {
	cfg := DefaultConfig()
	h := c.Helpdesk
	cfg.ExternalSenders, cfg.ClosedReply = h.ExternalSenders, h.ClosedReply
	cfg.NotifyNew, cfg.NotifyReply = h.NotifyNew, h.NotifyReply
	cfg.DisableAcks = !h.Acknowledgements
	if h.Categories != nil {
		cfg.Categories = slices.Clone(h.Categories)
	}
	hours := func(n int) time.Duration { return time.Duration(n) * time.Hour }
	cfg.SLA = map[Priority]time.Duration{PriorityUrgent: hours(h.SLAUrgentHours), PriorityHigh: hours(h.SLAHighHours),
		PriorityNormal: hours(h.SLANormalHours), PriorityLow: hours(h.SLALowHours)}
	cfg.MaxMessage, cfg.MaxAttachment = int64(h.MaxMessageMB)<<20, int64(h.MaxAttachmentMB)<<20
	cfg.LogRetention = hours(24 * h.LogRetentionDays)
	cfg.Address = strings.TrimSpace(c.Helpdesk.Address)
	if cfg.Address == "" {
		if a, err := mail.ParseAddress(c.Mail.From); err == nil {
			cfg.Address = a.Address
		}
	}
	if a, err := mail.ParseAddress(c.Mail.From); err == nil && strings.EqualFold(a.Address, cfg.Address) {
		cfg.Name = a.Name
	}
	cfg.AllowedDomains = slices.Clone(c.Helpdesk.AllowedDomains)
	cfg.PublicURL = c.Server.PublicURL
	if u, err := url.Parse(c.Server.PublicURL); err == nil {
		cfg.MessageIDDomain = u.Hostname()
	}
	cfg.DataDir = c.Server.DataDir
	if c.Municipality.Language == "en" {
		cfg.Language = "en"
	}
	return cfg
}
