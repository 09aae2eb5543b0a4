package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

type env struct {
	db    *sqlite.DB
	svc   *Service
	clock *clock
	logs  *syncBuffer
	opts  Options
}

// fastParams keep argon2 cheap in tests; the production parameters have their own test.
var fastParams = PasswordParams{Memory: 1024, Time: 1, Threads: 1}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	if opts.PasswordParams == (PasswordParams{}) {
		opts.PasswordParams = fastParams
	}
	if opts.PublicURL == "" {
		opts.PublicURL = "http://rocca.test/"
	}
	e := &env{db: db, clock: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}, logs: &syncBuffer{}, opts: opts}
	e.svc = e.service(t, opts)
	return e
}

// service builds another Service over the same database, as after a restart.
func (e *env) service(t *testing.T, opts Options) *Service {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := NewService(e.db, cat, logger, e.clock.Now, opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (e *env) user(t *testing.T, email string, role rocca.Role, password string) *rocca.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), NewUser{Email: email, Name: "Test " + string(role), Role: role, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code rocca.ErrorCode) {
	t.Helper()
	if got := rocca.ErrorCodeOf(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

// auditActions returns the actions in the audit log, oldest first.
func (e *env) auditActions(t *testing.T) []string {
	t.Helper()
	entries, err := e.svc.AuditLog(context.Background(), 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Action)
	}
	return out
}

const (
	time2h  = 2 * time.Hour
	time90m = 90 * time.Minute
)

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
