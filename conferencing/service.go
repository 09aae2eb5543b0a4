package conferencing

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/client"
	"github.com/rocca-pa/rocca/conferencing/sfu"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed pages/*.html
var pageFiles embed.FS

// Migrations returns the schema of this part (tables conf_*). It refers to users(id), so it runs
// after the accounts' migrations.
func Migrations() sqlite.Migrations {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // embedded at build time: a failure here is a build bug
	}
	return sqlite.Migrations{Part: "conferencing", FS: sub}
}

// Mailer queues invitations in the outbox, in the transaction that creates the meeting.
type Mailer interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, env mail.Envelope, raw []byte) (int64, error)
	Wake()
}

// Users finds accounts, to recognise invitees and hosts by their address. UserByEmail returns a
// rocca ENOTFOUND error (or nil, nil) for an unknown address.
type Users interface {
	UserByEmail(ctx context.Context, email string) (*rocca.User, error)
}

// Deps are the Service's collaborators.
type Deps struct {
	DB      *sqlite.DB
	SFU     *sfu.SFU
	Catalog *i18n.Catalog
	Logger  *slog.Logger
	Clock   func() time.Time // default time.Now
	Mailer  Mailer           // nil: invitations are recorded but not sent
	Users   Users            // nil: invitees are plain addresses, hosts only the creator
}

// Service runs meetings.
type Service struct {
	cfg       Config
	db        *sqlite.DB
	media     *sfu.SFU
	cat       *i18n.Catalog
	log       *slog.Logger
	now       func() time.Time
	mailer    Mailer
	users     Users
	tokens    *tokens
	pages     *web.Renderer // meeting list
	room      *web.Renderer // the client page
	assets    *assets
	passcodes passcodeThrottle

	mu     sync.Mutex
	rooms  map[int64]*room // live rooms by meeting id
	closed bool
}

// NewService builds the meetings service. The SFU must be running; cmd/rocca closes the Service
// (Close) before the SFU.
func NewService(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.DB == nil || d.SFU == nil || d.Catalog == nil {
		return nil, errors.New("meetings: database, SFU and catalog are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	key, err := loadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, db: d.DB, media: d.SFU, cat: d.Catalog, log: d.Logger.With("part", "conferencing"),
		now: d.Clock, mailer: d.Mailer, users: d.Users, rooms: map[int64]*room{},
		tokens: &tokens{key: key, ttl: cfg.TokenTTL, now: d.Clock},
	}
	if s.mailer == nil {
		s.mailer = noMailer{}
	}
	pages, err := fs.Sub(pageFiles, "pages")
	if err != nil {
		return nil, err
	}
	if s.pages, err = web.NewRenderer(d.Catalog, s.log, pages); err != nil {
		return nil, fmt.Errorf("meetings pages: %w", err)
	}
	if s.room, err = web.NewRenderer(d.Catalog, s.log, client.Pages()); err != nil {
		return nil, fmt.Errorf("meeting client page: %w", err)
	}
	if s.assets, err = loadAssets(client.Static()); err != nil {
		return nil, err
	}
	return s, nil
}

// Close ends every live room: clients are told to reconnect (the server is restarting) and
// disconnected. Call it before closing the SFU; the Service accepts no connection afterwards.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.shutdown()
	}
	s.log.Info("meetings stopped", "rooms", len(rooms))
}

// noMailer records invitations without sending them (no outbox wired).
type noMailer struct{}

func (noMailer) EnqueueTx(context.Context, *sql.Tx, mail.Envelope, []byte) (int64, error) {
	return 0, nil
}
func (noMailer) Wake() {}
