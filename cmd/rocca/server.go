package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing"
	"github.com/rocca-pa/rocca/conferencing/council"
	"github.com/rocca-pa/rocca/conferencing/sfu"
	"github.com/rocca-pa/rocca/helpdesk"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
	"github.com/rocca-pa/rocca/internal/adminapi"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
	"github.com/rocca-pa/rocca/vpn"
)

// server is every part of a running Rocca, built by newServer and run by run.
type server struct {
	cfg    *config.Config
	logger *slog.Logger
	db     *sqlite.DB
	reg    *prometheus.Registry
	web    *web.Server
	admin  *adminapi.Server
	auth   *auth.Service
	outbox *mail.Outbox
	// accounts are the mail sign-ins (password or OAuth2) of the helpdesk mailbox and the SMTP relay.
	accounts *mail.Accounts
	vpn      *vpn.Service // nil when [vpn] enabled = false
	media    *sfu.SFU     // nil when [meetings] enabled = false
	meet     *conferencing.Service
	desk     *helpdesk.Service // nil when [helpdesk] enabled = false
	mailin   *mailin.Syncer    // nil while no IMAP mailbox is configured

	meetOnce sync.Once // stopMeetings runs once, in order on shutdown or early on a failed start
}

func newServer(ctx context.Context, cfg *config.Config, cat *i18n.Catalog, logger *slog.Logger, version string) (*server, error) {
	if err := os.MkdirAll(cfg.Server.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, logger: logger, db: db, reg: prometheus.NewRegistry()}
	if err := s.build(ctx, cat, version); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *server) build(ctx context.Context, cat *i18n.Catalog, version string) error {
	if err := s.db.Migrate(ctx, auth.Migrations(), mail.Migrations(), vpn.Migrations(), conferencing.Migrations(), helpdesk.Migrations()); err != nil {
		return err
	}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	w, err := web.New(web.Options{
		Listen: s.cfg.Server.Listen, PublicURL: s.cfg.Server.PublicURL, TLS: string(s.cfg.Server.TLS),
		CertFile: s.cfg.Server.CertFile, KeyFile: s.cfg.Server.KeyFile, DataDir: s.cfg.Server.DataDir,
		ACMEEmail: s.cfg.Server.ACMEEmail, Municipality: s.cfg.Municipality.Name,
	}, s.logger, cat, s.reg)
	if err != nil {
		return err
	}
	s.web = w
	// The key that encrypts TOTP secrets lives beside the database, in keys/ (part of backups).
	secret, err := auth.LoadOrCreateKey(filepath.Join(s.cfg.Server.DataDir, "keys", "auth.key"))
	if err != nil {
		return err
	}
	s.auth, err = auth.NewService(s.db, cat, s.logger, time.Now, auth.Options{
		SecureCookies: w.SecureCookies(), PublicURL: s.cfg.Server.PublicURL, Municipality: s.cfg.Municipality.Name,
		SessionTTL: time.Duration(s.cfg.Server.SessionHours) * time.Hour, SecretKey: secret,
	})
	if err != nil {
		return err
	}
	w.Use(s.auth.Middleware)
	s.auth.Routes(w)
	s.accounts = mail.NewAccounts(s.db, mail.AccountsOptions{DataDir: s.cfg.Server.DataDir, PublicURL: s.cfg.Server.PublicURL, Logger: s.logger})
	if err := s.addMailAccounts(ctx); err != nil {
		return err
	}
	sender, err := s.mailSender()
	if err != nil {
		return err
	}
	s.outbox = mail.NewOutbox(s.db, sender, s.logger, time.Now)
	s.reg.MustRegister(outboxCollector{s.outbox}, helpdeskCollector{s})
	s.outbox.Routes(w, auth.Require(rocca.RoleAdmin))
	s.accounts.Routes(w, auth.Require)
	w.AddReadyCheck("mail_accounts", s.accounts.Ready)
	s.reg.MustRegister(s.accounts.Collector())
	w.AddReadyCheck("database", func(ctx context.Context) error { return s.db.PingContext(ctx) })

	s.admin = adminapi.NewServer(s.cfg.AdminSocketPath(), s.logger)
	s.admin.Handle("GET /v1/ping", adminapi.Func(s.logger, func(context.Context, *http.Request, struct{}) (map[string]string, error) {
		return map[string]string{"version": version}, nil
	}))
	adminapi.UserRoutes(s.admin, s.auth)
	s.accounts.AdminRoutes(s.admin, s.logger)
	if err := s.buildVPN(cat); err != nil {
		return err
	}
	if err := s.buildMeetings(cat); err != nil {
		return err
	}
	if err := s.buildHelpdesk(cat); err != nil {
		return err
	}
	w.SetHome(s.homeLinks())
	return nil
}

// buildVPN builds the VPN part when it is enabled. An interface that cannot be opened (no
// CAP_NET_ADMIN, no /dev/net/tun) does not stop the server: the part reports why in its status.
func (s *server) buildVPN(cat *i18n.Catalog) error {
	c := s.cfg
	if !c.VPN.Enabled {
		return nil
	}
	vcfg := vpn.Config{
		Interface: c.VPN.Interface, Mode: string(c.VPN.Mode), ListenPort: c.VPN.ListenPort, Subnet: c.VPN.Subnet,
		Endpoint: c.VPNEndpoint(), DNS: c.VPN.DNS, LAN: c.VPN.LAN, MTU: c.VPN.MTU, Keepalive: c.VPN.Keepalive,
		DataDir: c.Server.DataDir, PublicURL: c.Server.PublicURL, MailFrom: c.Mail.From, Municipality: c.Municipality.Name,
	}
	open, fw, err := vpn.SystemDevice(vcfg, s.logger)
	if err != nil {
		return err
	}
	s.vpn, err = vpn.New(vcfg, vpn.Deps{
		DB: s.db, Users: s.auth, Audit: s.auth, Mailer: s.outbox, Catalog: cat, Logger: s.logger, Open: open, Firewall: fw,
	})
	if err != nil {
		return err
	}
	s.vpn.Routes(s.web, auth.Require)
	s.vpn.AdminRoutes(s.admin, s.logger)
	s.reg.MustRegister(s.vpn.Collector())
	return nil
}

// buildMeetings builds the SFU (one UDP port, ICE-TCP, embedded TURN) and the meetings part when
// enabled.
func (s *server) buildMeetings(cat *i18n.Catalog) error {
	c := s.cfg
	if !c.Meetings.Enabled {
		return nil
	}
	keys := filepath.Join(c.Server.DataDir, "keys")
	turnSecret, err := auth.LoadOrCreateKey(filepath.Join(keys, "turn.key"))
	if err != nil {
		return err
	}
	turnHost := c.Meetings.PublicIP
	if turnHost == "" {
		turnHost = publicHost(c.Server.PublicURL)
	}
	s.media, err = sfu.New(sfu.Config{
		UDPPort: c.Meetings.UDPPort, PublicIP: c.Meetings.PublicIP, IncludeLoopback: isLoopbackListen(c.Server.Listen),
		TURNPort: c.Meetings.TURNPort, TURNSecret: turnSecret, TURNHost: turnHost,
	}, s.logger)
	if err != nil {
		return err
	}
	s.meet, err = conferencing.NewService(conferencing.Config{
		PublicURL: c.Server.PublicURL, KeyFile: filepath.Join(keys, "conf-token.key"), Municipality: c.Municipality.Name,
		Language: c.Municipality.Language, MailFrom: c.Mail.From,
		CouncilDir: filepath.Join(c.Server.DataDir, "council"), CouncilKeyFile: council.KeyPath(c.Server.DataDir),
		PublicViewers: c.Meetings.PublicViewers,
	}, conferencing.Deps{DB: s.db, SFU: s.media, Catalog: cat, Logger: s.logger, Clock: time.Now, Mailer: s.outbox, Users: s.auth})
	if err != nil {
		s.media.Close()
		return err
	}
	s.meet.Routes(s.web, auth.Require)
	s.meet.AdminRoutes(s.admin, s.logger)
	s.reg.MustRegister(s.meet.Collector())
	return nil
}

// buildHelpdesk builds the helpdesk when enabled, and the IMAP mail-in when a mailbox is configured.
func (s *server) buildHelpdesk(cat *i18n.Catalog) error {
	c := s.cfg
	if !c.Helpdesk.Enabled {
		return nil
	}
	hc := helpdesk.ConfigFrom(c)
	if hc.Address == "" {
		// Replies and acknowledgements need a sender address; without one the part stays off and
		// says how to turn it on, instead of stopping the whole server.
		s.logger.Warn("helpdesk off: set [helpdesk] address (e.g. helpdesk@comune.example.it) or [mail] from to turn it on")
		return nil
	}
	var err error
	s.desk, err = helpdesk.NewService(s.db, hc, s.auth, s.outbox, cat, s.logger, time.Now)
	if err != nil {
		return err
	}
	s.desk.Routes(s.web, auth.Require)
	s.desk.AdminRoutes(s.admin, s.logger)
	if c.Helpdesk.IMAPHost == "" {
		s.logger.Info("helpdesk: no mailbox configured ([helpdesk] imap_host); tickets come from the web form only")
		return nil
	}
	ic := mailin.IMAPConfigFrom(c.Helpdesk)
	if c.Helpdesk.IMAPAuth == config.AuthOAuth2 {
		ic.Auth = s.accounts.Account("helpdesk")
	}
	if err := ic.Validate(); err != nil {
		return err
	}
	s.mailin = mailin.NewSyncer(ic, s.desk, s.logger, time.Now)
	s.web.AddReadyCheck("helpdesk-mailbox", func(context.Context) error {
		if st := s.mailin.Status(); !st.Connected && st.LastError != "" {
			return fmt.Errorf("mailbox: %s", st.LastError)
		}
		return nil
	})
	return nil
}

// isLoopbackListen reports whether the web server listens on loopback only (a single-host or
// development setup), where media must be offered on loopback too.
func isLoopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// homeLinks are the entries of the home page: the enabled parts first, then administration.
func (s *server) homeLinks() []web.HomeLink {
	var links []web.HomeLink
	if s.vpn != nil {
		links = append(links,
			web.HomeLink{TitleKey: "vpn.home.devices.title", DescKey: "vpn.home.devices.desc", Href: "/vpn/devices"},
			web.HomeLink{TitleKey: "vpn.home.admin.title", DescKey: "vpn.home.admin.desc", Href: "/admin/vpn", Role: rocca.RoleAdmin})
	}
	if s.meet != nil {
		links = append(links, web.HomeLink{TitleKey: "home.meetings.title", DescKey: "home.meetings.desc", Href: "/meetings"})
	}
	if s.desk != nil {
		links = append(links, helpdesk.HomeLinks()...)
	}
	return append(links, []web.HomeLink{
		{TitleKey: "home.users.title", DescKey: "home.users.desc", Href: "/admin/users", Role: rocca.RoleAdmin},
		{TitleKey: "home.audit.title", DescKey: "home.audit.desc", Href: "/admin/audit", Role: rocca.RoleAdmin},
		{TitleKey: "home.tokens.title", DescKey: "home.tokens.desc", Href: "/admin/tokens", Role: rocca.RoleAdmin},
		{TitleKey: "home.outbox.title", DescKey: "home.outbox.desc", Href: "/admin/outbox", Role: rocca.RoleAdmin},
		{TitleKey: "mail.accounts.title", DescKey: "mail.accounts.home_desc", Href: "/admin/mail", Role: rocca.RoleAdmin},
		{TitleKey: "home.account.title", DescKey: "home.account.desc", Href: "/account"},
	}...)
}

// mailSender returns the SMTP sender, or one that keeps mail queued while no server is configured.
func (s *server) mailSender() (mail.Sender, error) {
	m := s.cfg.Mail
	if m.SMTPHost == "" {
		return unconfiguredSender{}, nil
	}
	cfg := mail.SMTPConfig{
		Host: m.SMTPHost, Port: m.SMTPPort, Security: string(m.SMTPSecurity), User: m.SMTPUser,
		PasswordFile: m.SMTPPasswordFile, HELO: publicHost(s.cfg.Server.PublicURL),
	}
	if a := s.smtpAccount(); a != nil {
		cfg.User, cfg.PasswordFile, cfg.Auth = "", "", a
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return mail.NewSMTP(cfg, s.logger), nil
}

// addMailAccounts registers the mail sign-ins the config asks for: "helpdesk" for the helpdesk
// mailbox (and for sending when smtp_auth = "helpdesk"), "smtp" for a relay with its own sign-in.
func (s *server) addMailAccounts(ctx context.Context) error {
	h, m := s.cfg.Helpdesk, s.cfg.Mail
	conv := func(o config.OAuth2) mail.OAuth2Config {
		return mail.OAuth2Config{Provider: o.Provider, Tenant: o.Tenant, ClientID: o.ClientID, ClientSecretFile: o.ClientSecretFile,
			AuthURL: o.AuthURL, TokenURL: o.TokenURL, DeviceURL: o.DeviceURL, Scopes: o.Scopes}
	}
	if h.Enabled && h.IMAPHost != "" || m.SMTPAuth == config.AuthHelpdesk {
		uses := []string{"IMAP"}
		if m.SMTPAuth == config.AuthHelpdesk {
			uses = append(uses, "SMTP")
		}
		if _, err := s.accounts.Add(ctx, mail.AccountConfig{Name: "helpdesk", Uses: uses, User: h.IMAPUser,
			Method: string(h.IMAPAuth), PasswordFile: h.IMAPPasswordFile, OAuth2: conv(h.OAuth2())}); err != nil {
			return fmt.Errorf("[helpdesk] mail account: %w", err)
		}
	}
	if m.SMTPHost != "" && m.SMTPAuth != config.AuthHelpdesk && (m.SMTPAuth == config.AuthOAuth2 || m.SMTPUser != "") {
		if _, err := s.accounts.Add(ctx, mail.AccountConfig{Name: "smtp", Uses: []string{"SMTP"}, User: m.SMTPUser,
			Method: string(m.SMTPAuth), PasswordFile: m.SMTPPasswordFile, OAuth2: conv(m.OAuth2())}); err != nil {
			return fmt.Errorf("[mail] mail account: %w", err)
		}
	}
	return nil
}

// smtpAccount is the sign-in the SMTP sender uses, or nil for none.
func (s *server) smtpAccount() mail.Auth {
	name := "smtp"
	if s.cfg.Mail.SMTPAuth == config.AuthHelpdesk {
		name = "helpdesk"
	}
	if a := s.accounts.Account(name); a != nil {
		return a
	}
	return nil
}

// publicHost is the host name of the public URL, used as our name in SMTP greetings.
func publicHost(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

type unconfiguredSender struct{}

func (unconfiguredSender) Send(context.Context, mail.Envelope, []byte) error {
	return rocca.Localized(rocca.EUNAVAILABLE, "mail.error.not_configured", "no SMTP server configured ([mail] smtp_host)")
}

// run serves until ctx is done, then stops the pieces in a fixed order: web, meetings and SFU,
// VPN, mail-in, outbox, admin socket, database.
func (s *server) run(ctx context.Context) error {
	defer s.db.Close()
	defer s.stopMeetings() // after a failed start; on shutdown it already ran in order
	if err := s.web.Listen(); err != nil {
		return err
	}
	if err := s.admin.Listen(); err != nil {
		return err
	}
	s.logger.Info("rocca is serving", "url", s.cfg.Server.PublicURL, "listen", s.web.Addr().String(),
		"admin_socket", s.cfg.AdminSocketPath(), "data_dir", absPath(s.cfg.Server.DataDir))
	if err := s.announceSetup(ctx); err != nil {
		return err
	}
	errc := make(chan error, 8)
	webStop := s.start(errc, "web", s.web.Serve)
	metricsStop := s.start(errc, "metrics", func(ctx context.Context) error {
		return web.ServeMetrics(ctx, s.cfg.Server.MetricsListen, s.reg, s.logger)
	})
	vpnStop, mailinStop := func() {}, func() {}
	if s.vpn != nil {
		vpnStop = s.start(errc, "vpn", s.vpn.Run)
	}
	if s.mailin != nil {
		mailinStop = s.start(errc, "mail-in", s.mailin.Run)
	}
	outboxStop := s.start(errc, "outbox", s.outbox.Run)
	accountsStop := s.start(errc, "mail-accounts", s.accounts.Run)
	purgeStop := s.start(errc, "purge", s.purgeLoop)
	adminStop := s.start(errc, "admin", s.admin.Serve)

	var err error
	select {
	case <-ctx.Done():
		s.logger.Info("shutting down")
	case err = <-errc:
		s.logger.Error("a component failed; shutting down", "err", err)
	}
	webStop()
	metricsStop()
	s.stopMeetings()
	for _, stop := range []func(){vpnStop, mailinStop, outboxStop, accountsStop, purgeStop, adminStop} {
		stop()
	}
	return err
}

// stopMeetings tells meeting clients to reconnect later and closes the SFU; the web server's
// Shutdown does not close WebSockets, so this must follow it.
func (s *server) stopMeetings() {
	s.meetOnce.Do(func() {
		if s.meet != nil {
			s.meet.Close()
		}
		if s.media != nil {
			s.media.Close()
		}
	})
}

// start runs fn in its own goroutine and returns a function that cancels it and waits for it.
func (s *server) start(errc chan<- error, name string, fn func(context.Context) error) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			errc <- fmt.Errorf("%s: %w", name, err)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// announceSetup logs the one-time link that creates the first administrator, while there is none.
func (s *server) announceSetup(ctx context.Context) error {
	link, err := s.auth.SetupLink(ctx)
	if err != nil {
		return err
	}
	if link != "" {
		s.logger.Warn("no administrator yet: open this one-time link (valid 24 h) to create one", "setup_url", link)
	}
	return nil
}

// sentMailRetention is how long delivered messages stay visible in the outbox.
const sentMailRetention = 90 * 24 * time.Hour

// purgeLoop removes expired sessions, tokens and throttling records, and old delivered mail, every hour.
func (s *server) purgeLoop(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := s.auth.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("purge failed", "err", err)
		}
		if _, err := s.outbox.PurgeSent(ctx, time.Now().Add(-sentMailRetention)); err != nil && ctx.Err() == nil {
			s.logger.Warn("purge of sent mail failed", "err", err)
		}
		if s.desk != nil {
			if _, err := s.desk.Purge(ctx); err != nil && ctx.Err() == nil {
				s.logger.Warn("purge of helpdesk mail logs failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
