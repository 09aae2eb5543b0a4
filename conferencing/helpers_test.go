package conferencing

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/sfu"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"github.com/rocca-pa/rocca/internal/web"
)

const long = 30 * time.Second // deadline against hangs, never a speed requirement

// testLog writes Warn and above to the test log (Debug with CONF_DEBUG=1) and goes quiet once the
// test is over, since Pion goroutines may still log while closing.
func testLog(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	level := slog.LevelWarn
	if os.Getenv("CONF_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(bytes.TrimRight(b, "\n")))
	}
	return len(b), nil
}

func (w *testWriter) stop() { w.mu.Lock(); w.done = true; w.mu.Unlock() }

// The accounts of the test municipality.
var testUsers = map[int64]*rocca.User{
	1: {ID: 1, Email: "anna@comune.test", Name: "Anna Rossi", Role: rocca.RoleStaff},
	2: {ID: 2, Email: "bruno@comune.test", Name: "Bruno Bianchi", Role: rocca.RoleStaff},
	3: {ID: 3, Email: "carla@comune.test", Name: "Carla Verdi", Role: rocca.RoleCouncillor, Language: "en"},
	4: {ID: 4, Email: "admin@comune.test", Name: "Ufficio IT", Role: rocca.RoleAdmin},
}

// directory is the accounts lookup the Service gets in tests.
type directory struct{}

func (directory) UserByEmail(_ context.Context, email string) (*rocca.User, error) {
	for _, u := range testUsers {
		if u.Email == email {
			return u, nil
		}
	}
	return nil, rocca.Errorf(rocca.ENOTFOUND, "no user %s", email)
}

// env is a running meetings server: a real SQLite file, a real SFU on loopback, the Service
// mounted on the real web server (CSP, cross-origin protection and all), serving on 127.0.0.1.
type env struct {
	t      *testing.T
	dir    string
	db     *sqlite.DB
	cat    *i18n.Catalog
	log    *slog.Logger
	mailer *fakeMailer
	addr   string // host:port, kept across restarts
	base   string // http://addr
	turn   bool

	media *sfu.SFU
	svc   *Service
	srv   *http.Server
	done  chan struct{}
}

func newEnv(t *testing.T) *env { return newEnvWith(t, false) }

// newEnvWith starts the server; withTURN also runs the embedded TURN server.
func newEnvWith(t *testing.T, withTURN bool) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "rocca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The users table belongs to the accounts part; a minimal one stands in for it.
	if _, err := db.ExecContext(ctx, `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, u := range testUsers {
		if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, name) VALUES (?, ?, ?)`, u.ID, u.Email, u.Name); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, db: db, cat: cat, log: testLog(t), mailer: &fakeMailer{}, turn: withTURN}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	e.base = "http://" + e.addr
	e.start(ln)
	t.Cleanup(e.stop)
	return e
}

// start builds the SFU, the Service and the web server and serves on ln.
func (e *env) start(ln net.Listener) {
	t := e.t
	cfg := sfu.Config{Interfaces: []string{"lo"}, IncludeLoopback: true, IPv4Only: true}
	if e.turn {
		cfg.TURNSecret = []byte("test-turn-secret-0123456789")
	}
	media, err := sfu.New(cfg, e.log)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(Config{
		PublicURL: e.base, KeyFile: filepath.Join(e.dir, "keys", "conf-token.key"),
		Municipality: "Comune di Prova", MailFrom: "Rocca <rocca@comune.test>",
	}, Deps{DB: e.db, SFU: media, Catalog: e.cat, Logger: e.log, Mailer: e.mailer, Users: directory{}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := web.New(web.Options{Listen: e.addr}, e.log, e.cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Use(testAuth)
	svc.Routes(w, testRequire)
	e.media, e.svc = media, svc
	e.srv = &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		_ = e.srv.Serve(ln)
	}()
}

// stop shuts down in the order cmd/rocca uses: web, meetings, SFU.
func (e *env) stop() {
	if e.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
	<-e.done
	e.svc.Close()
	_ = e.media.Close()
	e.srv = nil
}

// restart stops the server and starts a new one on the same address, database and key.
func (e *env) restart() {
	e.stop()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", e.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		e.t.Fatalf("listen again on %s: %v", e.addr, err)
	}
	e.start(ln)
}

// testAuth signs requests in as the test user named by the X-Test-User header or the test_user
// cookie, standing in for auth.Middleware.
func testAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Test-User")
		if c, err := r.Cookie("test_user"); err == nil && id == "" {
			id = c.Value
		}
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && testUsers[n] != nil {
			r = r.WithContext(rocca.NewContextWithUser(r.Context(), testUsers[n]))
		}
		next.ServeHTTP(w, r)
	})
}

// testRequire stands in for auth.Require.
func testRequire(role rocca.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := rocca.UserFromContext(r.Context())
			switch {
			case u == nil:
				http.Error(w, "sign in", http.StatusUnauthorized)
			case role != "" && !u.Can(role):
				http.Error(w, "forbidden", http.StatusForbidden)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// fakeMailer records the invitations the Service queues.
type fakeMailer struct {
	mu    sync.Mutex
	sent  [][]byte
	to    [][]string
	woken int
}

func (f *fakeMailer) EnqueueTx(_ context.Context, _ *sql.Tx, env mail.Envelope, raw []byte) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, raw)
	f.to = append(f.to, env.To)
	return int64(len(f.sent)), nil
}

func (f *fakeMailer) Wake() { f.mu.Lock(); f.woken++; f.mu.Unlock() }

// meeting creates a meeting hosted by user 1 (Anna).
func (e *env) meeting(n NewMeeting) *Meeting {
	e.t.Helper()
	if n.Title == "" {
		n.Title = "Riunione di prova"
	}
	m, err := e.svc.CreateMeeting(context.Background(), testUsers[1], n)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// joinHTTP asks for a place in meeting m as user (0: a guest with name).
func (e *env) joinHTTP(m *Meeting, user int64, req JoinRequest) (*JoinResponse, int, string) {
	e.t.Helper()
	body, _ := json.Marshal(req)
	hr, _ := http.NewRequest(http.MethodPost, e.base+"/meetings/"+m.PublicID+"/join", bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Sec-Fetch-Site", "same-origin")
	if user != 0 {
		hr.Header.Set("X-Test-User", strconv.FormatInt(user, 10))
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return nil, res.StatusCode, string(b)
	}
	var jr JoinResponse
	if err := json.Unmarshal(b, &jr); err != nil {
		e.t.Fatal(err)
	}
	return &jr, res.StatusCode, string(b)
}

// waitFor polls cond until it holds; the deadline only keeps a broken test from hanging.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(long)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errClosedByTest = errors.New("closed by the test")

// memberStats is the last SFU report about participant id of meeting meetingID.
func (s *Service) memberStats(meetingID int64, id string) sfu.Stats {
	s.mu.Lock()
	r := s.rooms[meetingID]
	s.mu.Unlock()
	if r == nil {
		return sfu.Stats{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.members[id]; m != nil {
		return m.stats
	}
	return sfu.Stats{}
}

// metricValue gathers the Service's metrics and returns the value of name (summed over labels).
func metricValue(t testing.TB, s *Service, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			v += m.GetGauge().GetValue()
		}
	}
	return v
}
