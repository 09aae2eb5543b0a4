package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed templates/*.html
var templateFiles embed.FS

// Migrations returns the schema of the auth tables, to be applied with db.Migrate.
func Migrations() sqlite.Migrations {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists at build time
	}
	return sqlite.Migrations{Part: "auth", FS: sub}
}

// Options tune the service.
type Options struct {
	SecureCookies bool          // mark the session cookie Secure (set when serving HTTPS)
	PublicURL     string        // base of the links the service prints, e.g. https://rocca.comune.it
	SessionTTL    time.Duration // idle lifetime of a session, renewed by use; 0 = 12 h
	Municipality  string        // shown in the authenticator app next to the account

	// PasswordParams are the argon2id costs; the zero value is the production default. Tests lower
	// them for speed. Stored hashes with other parameters are upgraded at the next login.
	PasswordParams PasswordParams

	// SecretKey, when 32 bytes long, encrypts TOTP secrets at rest (AES-256-GCM). Keep it in a 0600
	// file beside the database. Without it secrets are stored in clear (never logged). Losing the
	// key makes enrolled second factors unusable: ResetTOTP clears them.
	SecretKey []byte

	// Throttle overrides the login throttling limits; zero fields take the defaults.
	Throttle Throttle
}

// Throttle says how many failed logins within Window are allowed per account and per IP address
// before further attempts are refused.
type Throttle struct {
	Window     time.Duration // default 15 min
	PerAccount int           // default 5
	PerIP      int           // default 20
}

// Service is the auth service.
type Service struct {
	db     *sqlite.DB
	cat    *i18n.Catalog
	logger *slog.Logger
	now    func() time.Time
	opts   Options
	params PasswordParams

	// dummyHash is verified against when the e-mail is unknown, so that an unknown account costs
	// the same time as a wrong password and cannot be told apart.
	dummyHash string
	// hashing bounds concurrent argon2 computations: each takes Memory KiB.
	hashing chan struct{}
	// hashers counts computations running or waiting, to know when the last one ends.
	hashers atomic.Int32

	render *web.Renderer // the pages in templates/
}

// NewService returns the auth service. The database must have Migrations applied.
func NewService(db *sqlite.DB, cat *i18n.Catalog, logger *slog.Logger, now func() time.Time, opts Options) (*Service, error) {
	if cat == nil || logger == nil {
		return nil, errors.New("auth: a catalog and a logger are required")
	}
	if now == nil {
		now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if n := len(opts.SecretKey); n != 0 && n != 32 {
		return nil, fmt.Errorf("auth: secret key is %d bytes, want 32", n)
	}
	if opts.Throttle.Window <= 0 {
		opts.Throttle.Window = 15 * time.Minute
	}
	if opts.Throttle.PerAccount <= 0 {
		opts.Throttle.PerAccount = 5
	}
	if opts.Throttle.PerIP <= 0 {
		opts.Throttle.PerIP = 20
	}
	s := &Service{
		db:      db,
		cat:     cat,
		logger:  logger.With("part", "auth"),
		now:     now,
		opts:    opts,
		params:  opts.PasswordParams.orDefault(),
		hashing: make(chan struct{}, max(1, runtime.NumCPU())),
	}
	dummy, err := s.hash(randomToken()) // which gives its memory back to the system at once
	if err != nil {
		return nil, err
	}
	s.dummyHash = dummy
	pages, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, fmt.Errorf("auth: templates: %w", err)
	}
	if s.render, err = web.NewRenderer(cat, logger, pages); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return s, nil
}

// hash computes a password hash, bounding how many run at once.
func (s *Service) hash(password string) (phc string, err error) {
	s.argon2(func() { phc, err = hashPassword(password, s.params) })
	return phc, err
}

// check verifies a password against a stored hash, bounding how many run at once.
func (s *Service) check(phc, password string) (ok, rehash bool, err error) {
	s.argon2(func() { ok, rehash, err = checkPassword(phc, password, s.params) })
	return ok, rehash, err
}

// releaseFloor is the argon2 memory cost from which finishing a burst of sign-ins returns the
// memory to the system: below it the forced collection costs more than it gives back.
const releaseFloor = 8 * 1024 // KiB

// argon2 runs f in one of the bounded slots. Each computation allocates params.Memory (64 MiB by
// default) and drops it; the runtime would keep those pages resident for minutes, which on a small
// server doubles Rocca's memory after one sign-in. The last computation of a burst hands them back.
func (s *Service) argon2(f func()) {
	s.hashers.Add(1)
	s.hashing <- struct{}{}
	defer func() {
		<-s.hashing
		if s.hashers.Add(-1) == 0 && s.params.Memory >= releaseFloor {
			debug.FreeOSMemory()
		}
	}()
	f()
}

// randomToken returns 256 random bits, URL-safe base64 encoded.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is how secrets handed to users (session ids, tokens, links) are stored.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}
