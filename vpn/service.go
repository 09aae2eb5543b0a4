package vpn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Deps are what the service is built from. DB (with Migrations applied), Users and Catalog are
// required. Without Open the service keeps the database only (the CLI offline, tests); without
// Firewall no access rules are installed; without Mailer links cannot be e-mailed; without Audit
// nothing is audited; Clock defaults to the real one.
type Deps struct {
	DB       *sqlite.DB
	Users    Users
	Audit    Auditor
	Mailer   Mailer
	Catalog  *i18n.Catalog
	Logger   *slog.Logger
	Clock    Clock
	Open     OpenDevice
	Firewall Firewall
}

// Service is the VPN part. Run keeps the interface equal to the database; the other methods change
// the database and apply the change to the interface at once.
type Service struct {
	cfg      Config
	net      network
	db       *sqlite.DB
	users    Users
	audit    Auditor
	mailer   Mailer
	cat      *i18n.Catalog
	logger   *slog.Logger
	clock    Clock
	open     OpenDevice
	firewall Firewall
	psk      *pskBox
	render   *web.Renderer
	limiter  *limiter

	// devMu serialises every change of the interface and the firewall, so that a reconcile pass
	// and an immediate apply never interleave.
	devMu     sync.Mutex
	dev       Device // nil while closed or unavailable
	devErr    error  // why the interface could not be opened, for Status
	reopen    bool   // the server key changed: open the interface again
	serverKey wgtypes.Key
	fwSig     string                  // plan.sig of the firewall installed, "" = none (install it whole)
	fwSets    map[netip.Addr][]string // the sets each device address is in, as installed
	liveHint  int                     // devices read by the last pass, to size the next one's buffers

	mu        sync.Mutex // guards the fields below
	stats     map[int64]peerStats
	statsAt   time.Time
	stopTimer func() bool // the expiry timer, nil when none
	timerAt   time.Time
	notReady  error // why the interface is not open, for Ready; nil while it is

	wake    chan struct{} // ask Run for a reconcile pass now
	expired chan struct{} // the expiry timer fired
}

// peerStats is what the interface last said about a live device, for metrics.
type peerStats struct {
	name, owner string
	handshake   time.Time
	rx, tx      int64
	online      bool
}

// New checks cfg, loads (or creates once) the server key and the pre-shared-key key in
// <DataDir>/keys, and parses the pages.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	n, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	if deps.DB == nil || deps.Users == nil || deps.Catalog == nil {
		return nil, errors.New("vpn: a database, the users and a catalog are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Clock == nil {
		deps.Clock = systemClock{}
	}
	s := &Service{
		cfg: cfg, net: n, db: deps.DB, users: deps.Users, audit: deps.Audit, mailer: deps.Mailer,
		cat: deps.Catalog, logger: deps.Logger.With("part", "vpn"), clock: deps.Clock,
		open: deps.Open, firewall: deps.Firewall,
		stats:    map[int64]peerStats{},
		notReady: rocca.Localized(rocca.EUNAVAILABLE, "vpn.error.starting", "the VPN interface is starting"),
		wake:     make(chan struct{}, 1),
		expired:  make(chan struct{}, 1),
	}
	s.limiter = newLimiter(linkFailures, linkWindow, s.clock.Now)
	if s.serverKey, err = loadOrCreateServerKey(cfg.keyPath(serverKeyFile)); err != nil {
		return nil, err
	}
	if s.psk, err = loadPSKBox(cfg.keyPath(pskKeyFile)); err != nil {
		return nil, err
	}
	pages, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, fmt.Errorf("vpn: templates: %w", err)
	}
	if s.render, err = web.NewRenderer(deps.Catalog, deps.Logger, pages); err != nil {
		return nil, fmt.Errorf("vpn: %w", err)
	}
	return s, nil
}

// ServerPublicKey is the public key devices put in their [Peer] section.
func (s *Service) ServerPublicKey() wgtypes.Key {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	return s.serverKey.PublicKey()
}

// Run opens the interface, keeps it equal to the database (every Config.Reconcile, and at once
// when something changed), expires devices at their exact expiry time, records handshakes in the
// connection log and purges old log entries, until ctx is done; then it closes the interface (in
// kernel mode the interface and its tunnels stay up). When the interface cannot be opened, the
// reason is logged and shown by Status, and Run keeps trying: the rest of Rocca keeps working.
func (s *Service) Run(ctx context.Context) error {
	defer s.closeDevice()
	defer s.stopExpiryTimer()
	tick := time.NewTicker(s.cfg.Reconcile)
	defer tick.Stop()
	purge := time.NewTicker(time.Hour)
	defer purge.Stop()
	s.scheduleExpiry(ctx)
	s.purge(ctx)
	for {
		s.expireDue(ctx)
		s.Reconcile(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-s.wake:
		case <-s.expired:
		case <-purge.C:
			s.purge(ctx)
		}
	}
}

// poke asks Run for a reconcile pass soon; it never blocks.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) closeDevice() {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	if s.dev != nil {
		if err := s.dev.Close(); err != nil {
			s.logger.Warn("close vpn interface", "err", err)
		}
		s.dev = nil
	}
}

// purge applies the retention of the connection log and drops dead links.
func (s *Service) purge(ctx context.Context) {
	set, err := loadSettings(ctx, s.db)
	if err != nil {
		s.logger.Warn("purge: settings", "err", err)
		return
	}
	now := s.clock.Now()
	n, err := purgeConnections(ctx, s.db, now.AddDate(0, 0, -set.LogDays))
	if err != nil {
		s.logger.Warn("purge connection log", "err", err)
	} else if n > 0 {
		s.logger.Info("connection log purged", "entries", n, "older_than_days", set.LogDays)
	}
	if err := purgeLinks(ctx, s.db, now.AddDate(0, 0, -7)); err != nil {
		s.logger.Warn("purge links", "err", err)
	}
}

// auditLog writes an audit entry; a failure is logged, not returned: the change is done.
func (s *Service) auditLog(ctx context.Context, action string, detail map[string]any) {
	if s.audit == nil {
		return
	}
	if err := s.audit.Audit(ctx, action, detail); err != nil {
		s.logger.Error("audit entry not written", "action", action, "err", err)
	}
}
