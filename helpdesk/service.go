package helpdesk

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed templates/*.html
var templateFiles embed.FS

// Migrations returns the schema of the helpdesk (part "helpdesk"). It references users(id), so the
// accounts' migrations run first.
func Migrations() sqlite.Migrations {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sqlite.Migrations{Part: "helpdesk", FS: sub}
}

// Users is what the helpdesk needs from the accounts: cmd/rocca passes the auth service.
type Users interface {
	// UserByEmail returns the user with that address (any case), or an ENOTFOUND error.
	UserByEmail(ctx context.Context, email string) (*rocca.User, error)
	// UserByID returns the user, or an ENOTFOUND error.
	UserByID(ctx context.Context, id int64) (*rocca.User, error)
	// Users lists every user (for assignment and notifications).
	Users(ctx context.Context) ([]*rocca.User, error)
}

// Mailer is the outbox: mail is stored in the helpdesk's own transaction, so a reply and its mail
// commit together, and the worker is woken after the commit.
type Mailer interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, env mail.Envelope, raw []byte) (int64, error)
	Wake()
}

// Service is the helpdesk.
type Service struct {
	db     *sqlite.DB
	cfg    Config
	users  Users
	mailer Mailer
	cat    *i18n.Catalog
	logger *slog.Logger
	now    func() time.Time
	files  *fileStore
	render *web.Renderer
}

// NewService returns the helpdesk over db (with Migrations applied). cfg is validated; now is the
// clock (time.Now outside tests).
func NewService(db *sqlite.DB, cfg Config, users Users, mailer Mailer, cat *i18n.Catalog, logger *slog.Logger, now func() time.Time) (*Service, error) {
	if db == nil || users == nil || mailer == nil || cat == nil || logger == nil {
		return nil, errors.New("helpdesk: db, users, mailer, catalog and logger are required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("helpdesk: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	cfg = cfg.withDefaults()
	files, err := newFileStore(filepath.Join(cfg.DataDir, "helpdesk", "attachments"))
	if err != nil {
		return nil, fmt.Errorf("helpdesk: %w", err)
	}
	pages, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, fmt.Errorf("helpdesk: templates: %w", err)
	}
	logger = logger.With("part", "helpdesk")
	render, err := web.NewRenderer(cat, logger, pages)
	if err != nil {
		return nil, fmt.Errorf("helpdesk: %w", err)
	}
	return &Service{
		db: db, cfg: cfg, users: users, mailer: mailer, cat: cat, logger: logger, now: now,
		files: files, render: render,
	}, nil
}

// parseOptions are the limits and own identities mailin.Parse works with.
func (s *Service) parseOptions() mailin.Options {
	own := append([]string{s.cfg.Address}, s.cfg.OwnAddresses...)
	return mailin.Options{
		MaxSize:       s.cfg.MaxMessage,
		MaxAttachment: s.cfg.MaxAttachment,
		OwnAddresses:  own,
		OwnDomain:     s.cfg.MessageIDDomain,
	}
}

// Categories returns the categories agents may choose.
func (s *Service) Categories() []string { return s.cfg.Categories }

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func fromNullUnix(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromUnix(n.Int64)
}

// queryer is what read helpers need: the database or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
