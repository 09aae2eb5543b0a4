package helpdesk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// The identities of the corpus (testdata/corpus/expected.json in mailin).
const (
	testAddress = "helpdesk@comune.example.it"
	testDomain  = "rocca.comune.example.it"
	corpusDir   = "mailin/testdata/corpus"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// nullSender is the outbox's relay in unit tests: the worker never runs, so nothing is sent; the
// tests read what was queued from mail_outbox.
type nullSender struct{}

func (nullSender) Send(context.Context, mail.Envelope, []byte) error { return nil }

type env struct {
	t       testing.TB
	dbPath  string
	db      *sqlite.DB
	auth    *auth.Service
	outbox  *mail.Outbox
	svc     *Service
	clock   *testClock
	cfg     Config
	dataDir string
}

func testConfig(dataDir string) Config {
	cfg := DefaultConfig()
	cfg.Address = testAddress
	cfg.MessageIDDomain = testDomain
	cfg.PublicURL = "https://rocca.comune.example.it"
	cfg.DataDir = dataDir
	return cfg
}

func testLogger() *slog.Logger {
	if os.Getenv("ROCCA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newEnv opens a fresh database file with the accounts, the outbox and the helpdesk, and a
// helpdesk service configured like the corpus expects; tune lets a test change the config.
func newEnv(t testing.TB, tune func(*Config)) *env {
	t.Helper()
	return openEnv(t, t.TempDir(), tune)
}

// openEnv opens (or creates) the environment whose database and files live in dir.
func openEnv(t testing.TB, dir string, tune func(*Config)) *env {
	t.Helper()
	e := &env{t: t, dbPath: filepath.Join(dir, "rocca.db"), dataDir: dir,
		clock: &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	e.open(t)
	e.cfg = testConfig(dir)
	if tune != nil {
		tune(&e.cfg)
	}
	e.svc = e.service(t, e.cfg)
	return e
}

// open opens the database and the services that live beside the helpdesk.
func (e *env) open(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, auth.Migrations(), mail.Migrations(), Migrations()); err != nil {
		t.Fatal(err)
	}
	cat := catalog(t)
	a, err := auth.NewService(db, cat, testLogger(), e.clock.Now, auth.Options{
		PasswordParams: auth.PasswordParams{Memory: 1024, Time: 1, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.auth = db, a
	e.outbox = mail.NewOutbox(db, nullSender{}, testLogger(), e.clock.Now)
}

func catalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func (e *env) service(t testing.TB, cfg Config) *Service {
	t.Helper()
	svc, err := NewService(e.db, cfg, e.auth, e.outbox, catalog(t), testLogger(), e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (e *env) user(email string, role rocca.Role) *rocca.User {
	e.t.Helper()
	u, err := e.auth.CreateUser(context.Background(), auth.NewUser{Email: email, Name: "Utente " + strings.Split(email, "@")[0], Role: role})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) ingest(raw []byte, uid uint32) {
	e.t.Helper()
	if err := e.svc.Ingest(context.Background(), raw, MailboxRef{Mailbox: "INBOX", UIDValidity: 1, UID: uid}); err != nil {
		e.t.Fatalf("ingest uid %d: %v", uid, err)
	}
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// queued is a message the helpdesk put in the outbox.
type queued struct {
	From   string // envelope sender; "" is the null sender
	To     []string
	Raw    []byte
	Header textproto.Header
}

func (q queued) get(k string) string { return q.Header.Get(k) }

// queuedMail returns the outbox content, oldest first.
func (e *env) queuedMail() []queued {
	e.t.Helper()
	rows, err := e.db.QueryContext(context.Background(), `SELECT envelope_from, recipients, raw FROM mail_outbox ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		var to string
		if err := rows.Scan(&q.From, &to, &q.Raw); err != nil {
			e.t.Fatal(err)
		}
		json.Unmarshal([]byte(to), &q.To)
		q.Header = parseHeader(e.t, q.Raw)
		out = append(out, q)
	}
	return out
}

func parseHeader(t testing.TB, raw []byte) textproto.Header {
	t.Helper()
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("read header of queued mail: %v", err)
	}
	return h
}

// mailTo returns the queued mail to addr of the given kind (by Auto-Submitted: "auto-replied"
// for acknowledgements, "" for replies).
func (e *env) mailTo(addr string) []queued {
	var out []queued
	for _, q := range e.queuedMail() {
		for _, to := range q.To {
			if strings.EqualFold(to, addr) {
				out = append(out, q)
			}
		}
	}
	return out
}

// msg builds a plain text mail.
type msg struct {
	From, To, Subject, ID, InReplyTo, References, ReplyTo, Body string
	Extra                                                       []string // "Header: value"
}

func (m msg) bytes() []byte {
	var b strings.Builder
	if m.To == "" {
		m.To = testAddress
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 02 Mar 2026 09:00:00 +0100\r\n", m.From, m.To, m.Subject)
	if m.ID != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", m.ID)
	}
	if m.InReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\n", m.InReplyTo)
	}
	if m.References != "" {
		fmt.Fprintf(&b, "References: %s\r\n", m.References)
	}
	if m.ReplyTo != "" {
		fmt.Fprintf(&b, "Reply-To: %s\r\n", m.ReplyTo)
	}
	for _, x := range m.Extra {
		b.WriteString(x + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(m.Body, "\n", "\r\n") + "\r\n")
	return []byte(b.String())
}

// corpusCase is the part of mailin's expected.json the helpdesk checks.
type corpusCase struct {
	File    string `json:"file"`
	Outcome string `json:"outcome"`
	Ticket  int64  `json:"ticket"`
}

func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Options struct {
			OwnAddresses []string `json:"own_addresses"`
			OwnDomain    string   `json:"own_domain"`
		} `json:"options"`
		Messages []corpusCase `json:"messages"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Options.OwnAddresses) == 0 || man.Options.OwnAddresses[0] != testAddress || man.Options.OwnDomain != testDomain {
		t.Fatalf("the corpus expects own addresses %v and domain %s; the tests use %s and %s",
			man.Options.OwnAddresses, man.Options.OwnDomain, testAddress, testDomain)
	}
	if len(man.Messages) < 40 {
		t.Fatalf("corpus has %d messages, want at least 40", len(man.Messages))
	}
	return man.Messages
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// oversized returns a well-formed mail of about size bytes.
func oversized(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: Grande <grande@comune.example.it>\r\nTo: helpdesk@comune.example.it\r\nSubject: Scansione enorme\r\n")
	b.WriteString("Message-ID: <oversized@comune.example.it>\r\nDate: Mon, 02 Mar 2026 09:00:00 +0100\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return b.Bytes()
}

// outcomeOf returns what the helpdesk made of the mail with one of these dedupe keys.
func (e *env) outcomeOf(keys ...string) (string, int64) {
	e.t.Helper()
	var outcome string
	var ticket *int64
	var err error
	for _, key := range keys {
		err = e.db.QueryRowContext(context.Background(), `SELECT outcome, ticket_id FROM helpdesk_mails WHERE dedupe_key = ?`, key).Scan(&outcome, &ticket)
		if err == nil {
			break
		}
	}
	if err != nil {
		e.t.Fatalf("mail %v: %v", keys, err)
	}
	if ticket == nil {
		return outcome, 0
	}
	return outcome, *ticket
}

// keysOf returns the dedupe keys of a mail as stored in a file and as an IMAP server serves it
// (with CRLF line ends), which differ for mail without a Message-ID (a hash of the header).
func keysOf(t testing.TB, raw []byte, cfg Config) []string {
	t.Helper()
	crlf := bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	return []string{keyOf(t, raw, cfg), keyOf(t, crlf, cfg)}
}

// keyOf parses a mail as the helpdesk would and returns its dedupe key.
func keyOf(t testing.TB, raw []byte, cfg Config) string {
	t.Helper()
	m, _ := mailin.Parse(raw, mailin.Options{MaxSize: cfg.MaxMessage, OwnAddresses: []string{cfg.Address}, OwnDomain: cfg.MessageIDDomain})
	if m == nil {
		m = &mailin.Message{}
	}
	return dedupeKey(m, raw)
}

func mustParse(t testing.TB, raw []byte, cfg Config) *mailin.Message {
	t.Helper()
	m, _ := mailin.Parse(raw, mailin.Options{MaxSize: cfg.MaxMessage, OwnAddresses: []string{cfg.Address}, OwnDomain: cfg.MessageIDDomain})
	if m == nil {
		t.Fatal("Parse returned nil")
	}
	return m
}
