package mailin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-sasl"

	"github.com/rocca-pa/rocca/helpdesk/internal/imaptest"
)

// memSink is a Sink in memory with the same contract as the helpdesk: position and message
// committed together, dedupe by Message-ID.
type memSink struct {
	mu         sync.Mutex
	pos        map[string]Position
	count      map[string]int // Message-ID -> 1 once stored
	order      []string       // Message-IDs in the order stored
	deliveries int            // Deliver calls that reached the store
	failOn     string         // a Message-ID whose delivery fails (the store is down)
	stored     chan string    // Message-IDs as they are stored
}

func newMemSink() *memSink {
	return &memSink{pos: map[string]Position{}, count: map[string]int{}, stored: make(chan string, 1000)}
}

func (s *memSink) Position(ctx context.Context, mailbox string) (Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos[mailbox], nil
}

func (s *memSink) Deliver(ctx context.Context, raw []byte, ref Ref) error {
	m, _ := Parse(raw, Options{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.MessageID == s.failOn {
		return errors.New("store unavailable")
	}
	s.deliveries++
	p := s.pos[ref.Mailbox]
	if p.UIDValidity == ref.UIDValidity && ref.UID <= p.LastUID {
		return nil
	}
	if s.count[m.MessageID] == 0 { // a copy under another ref is not stored again
		s.order = append(s.order, m.MessageID)
		s.stored <- m.MessageID
		s.count[m.MessageID]++
	}
	if p.UIDValidity != ref.UIDValidity {
		p = Position{UIDValidity: ref.UIDValidity}
	}
	p.LastUID = max(p.LastUID, ref.UID)
	s.pos[ref.Mailbox] = p
	return nil
}

func (s *memSink) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

func (s *memSink) setFail(id string) {
	s.mu.Lock()
	s.failOn = id
	s.mu.Unlock()
}

func testMail(i int) []byte {
	return fmt.Appendf(nil, "From: Anna <anna@comune.example.it>\r\nTo: helpdesk@comune.example.it\r\n"+
		"Subject: Prova %d\r\nMessage-ID: <prova-%d@comune.example.it>\r\nDate: Mon, 02 Mar 2026 09:00:00 +0100\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nTesto %d.\r\n", i, i, i)
}

func testLogger() *slog.Logger {
	if os.Getenv("ROCCA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func syncConfig(d *imaptest.Dovecot) IMAPConfig {
	return IMAPConfig{
		Host: "127.0.0.1", Port: d.Port, Security: SecurityNone, User: d.User, PasswordFile: d.PasswordFile,
		Folder: "INBOX", ProcessedFolder: "Rocca/Elaborati", Batch: 3,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Timeout: 10 * time.Second,
	}
}

// processedName is the server's name of the processed folder (Dovecot's maildir separator is ".").
func processedName(t *testing.T, d *imaptest.Dovecot) string {
	c := d.Client()
	defer c.Logout()
	name, err := serverName(c, "Rocca/Elaborati")
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func TestSyncMovesEachMessageOnce(t *testing.T) {
	d := imaptest.Start(t)
	for i := range 7 {
		d.Save("INBOX", testMail(i))
	}
	sink := newMemSink()
	cfg := syncConfig(d)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := NewSyncer(cfg, sink, testLogger(), nil)
	ctx := context.Background()
	if err := s.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sink.distinct(); n != 7 {
		t.Errorf("sink stored %d messages, want 7", n)
	}
	if n := d.Count("INBOX"); n != 0 {
		t.Errorf("INBOX still holds %d messages", n)
	}
	if n := d.Count(processedName(t, d)); n != 7 {
		t.Errorf("processed folder holds %d messages, want 7", n)
	}
	if s.LastSync().IsZero() {
		t.Error("no successful sync recorded")
	}
	// The messages were fetched with PEEK: none is \Seen in the processed folder.
	c := d.Client()
	defer c.Logout()
	if _, err := c.Select(processedName(t, d), true); err != nil {
		t.Fatal(err)
	}
	seen, err := c.Search(seenCriteria())
	if err != nil || len(seen) != 0 {
		t.Errorf("%d messages marked \\Seen (%v), want none: fetch must use BODY.PEEK[]", len(seen), err)
	}
	// A second round hands nothing over.
	before := sink.deliveries
	if err := s.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if sink.deliveries != before {
		t.Errorf("second round delivered %d more", sink.deliveries-before)
	}
}

func TestSyncStoreDownStopsWithoutMoving(t *testing.T) {
	d := imaptest.Start(t)
	for i := range 5 {
		d.Save("INBOX", testMail(i))
	}
	sink := newMemSink()
	sink.setFail("prova-2@comune.example.it")
	s := NewSyncer(syncConfig(d), sink, testLogger(), nil)
	if err := s.SyncOnce(context.Background()); err == nil {
		t.Fatal("a failing sink did not fail the round")
	}
	if got, inbox := sink.distinct(), d.Count("INBOX"); got != 2 || inbox != 3 {
		t.Errorf("after the failure: %d stored, %d left in INBOX; want 2 stored and moved, 3 left", got, inbox)
	}
	sink.setFail("")
	if err := s.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, inbox := sink.distinct(), d.Count("INBOX"); got != 5 || inbox != 0 {
		t.Errorf("after recovery: %d stored, %d in INBOX; want 5 and 0", got, inbox)
	}
}

// TestSyncCommittedButNotMoved covers a crash after the sink's commit and before the move: the
// messages are still in INBOX; the next round only moves them, and after a UIDVALIDITY change it
// hands them over again, which the sink dedupes by Message-ID.
func TestSyncCommittedButNotMoved(t *testing.T) {
	d := imaptest.Start(t)
	for i := range 4 {
		d.Save("INBOX", testMail(i))
	}
	validity := d.UIDValidity("INBOX")
	sink := newMemSink()
	for i := range 2 { // UIDs 1 and 2 are stored; the process died before MOVE
		if err := sink.Deliver(context.Background(), testMail(i), Ref{Mailbox: "INBOX", UIDValidity: validity, UID: uint32(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	calls := sink.deliveries
	s := NewSyncer(syncConfig(d), sink, testLogger(), nil)
	if err := s.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sink.deliveries - calls; got != 2 {
		t.Errorf("%d messages handed over, want only the 2 not yet stored", got)
	}
	if d.Count("INBOX") != 0 || sink.distinct() != 4 {
		t.Errorf("INBOX %d, stored %d; want 0 and 4", d.Count("INBOX"), sink.distinct())
	}

	// Now the same with a new UIDVALIDITY in between.
	for i := 4; i < 7; i++ {
		d.Save("INBOX", testMail(i))
	}
	validity = d.UIDValidity("INBOX")
	uids := inboxUIDs(t, d)
	if len(uids) != 3 {
		t.Fatalf("INBOX UIDs %v, want 3", uids)
	}
	for i := range 2 { // stored, not moved, and then the UIDs change
		if err := sink.Deliver(context.Background(), testMail(4+i), Ref{Mailbox: "INBOX", UIDValidity: validity, UID: uids[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if sink.distinct() != 6 {
		t.Fatalf("stored %d before the reset, want 6", sink.distinct())
	}
	calls = sink.deliveries
	d.ResetUIDValidity()
	if d.UIDValidity("INBOX") == validity {
		t.Fatal("UIDVALIDITY did not change")
	}
	if err := s.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Count("INBOX") != 0 || sink.distinct() != 7 {
		t.Errorf("after the reset: INBOX %d, stored %d; want 0 and 7", d.Count("INBOX"), sink.distinct())
	}
	if got := sink.deliveries - calls; got != 3 {
		t.Errorf("after the reset %d messages handed over, want all 3 again (new UIDs)", got)
	}
}

func TestSyncFlagMode(t *testing.T) {
	d := imaptest.Start(t)
	for i := range 3 {
		d.Save("INBOX", testMail(i))
	}
	cfg := syncConfig(d)
	cfg.ProcessedFolder = ""
	sink := newMemSink()
	s := NewSyncer(cfg, sink, testLogger(), nil)
	for range 2 {
		if err := s.SyncOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if sink.deliveries != 3 || d.Count("INBOX") != 3 {
		t.Errorf("flag mode: %d deliveries, %d in INBOX; want 3 and 3 (flagged, not moved)", sink.deliveries, d.Count("INBOX"))
	}
}

// TestRunIdleAndReconnect runs the syncer as the server does: a message delivered while it idles
// arrives without the safety poll (set to an hour), and after Dovecot restarts the syncer
// reconnects by itself and takes what arrived meanwhile.
func TestRunIdleAndReconnect(t *testing.T) {
	d := imaptest.Start(t)
	cfg := syncConfig(d)
	cfg.PollInterval = time.Hour
	sink := newMemSink()
	s := NewSyncer(cfg, sink, testLogger(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitStored := func(what string, want int) {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for sink.distinct() < want {
			select {
			case <-sink.stored:
			case <-deadline:
				t.Fatalf("%s: %d stored, want %d (status %+v)\n%s", what, sink.distinct(), want, s.Status(), d.Log())
			}
		}
	}
	waitSynced := func() {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for s.LastSync().IsZero() {
			if time.Now().After(deadline) {
				t.Fatalf("no first round (status %+v)", s.Status())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSynced()
	d.Save("INBOX", testMail(1))
	waitStored("delivery while idling", 1)

	d.Stop()
	d.SaveOffline(testMail(2)) // a delivery agent writes the maildir directly
	d.Start()
	waitStored("delivery while Dovecot was down", 2)
	d.Save("INBOX", testMail(3))
	waitStored("delivery after the reconnect", 3)
	if sink.deliveries != 3 {
		t.Errorf("%d deliveries, want 3", sink.deliveries)
	}
	// With no new mail there is no new round (the safety poll is an hour away), whatever happens
	// on other connections; at most one round still running from the last delivery may end. A
	// syncer that mistakes the EXISTS of its own SELECT for new mail goes round and round.
	before := quietRounds(t, s)
	for range 30 {
		d.Count("INBOX")
	}
	if after := s.Status().Rounds; after > before+1 {
		t.Errorf("%d rounds without new mail: the syncer loops instead of idling", after-before)
	}
}

func seenCriteria() *imap.SearchCriteria {
	c := imap.NewSearchCriteria()
	c.WithFlags = []string{imap.SeenFlag}
	return c
}

func inboxUIDs(t *testing.T, d *imaptest.Dovecot) []uint32 {
	t.Helper()
	c := d.Client()
	defer c.Logout()
	if _, err := c.Select("INBOX", true); err != nil {
		t.Fatal(err)
	}
	crit := imap.NewSearchCriteria()
	uids, err := c.UidSearch(crit)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(uids)
	return uids
}

// plainAuth is an Authenticator as cmd/rocca passes one (mail.PasswordAuth, or OAuth2).
type plainAuth struct {
	user, password string
	mechs          []string
}

func (a *plainAuth) Authenticate(ctx context.Context, mechs []string, do func(sasl.Client) error) error {
	a.mechs = mechs
	if !slices.Contains(mechs, "PLAIN") {
		return fmt.Errorf("no PLAIN in %v", mechs)
	}
	return do(sasl.NewPlainClient("", a.user, a.password))
}

func TestSyncWithAuthenticator(t *testing.T) {
	d := imaptest.Start(t)
	d.Save("INBOX", testMail(1))
	cfg := syncConfig(d)
	auth := &plainAuth{user: d.User, password: d.Password}
	cfg.User, cfg.PasswordFile, cfg.Auth = "", "", auth
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := newMemSink()
	if err := NewSyncer(cfg, sink, testLogger(), nil).SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.distinct() != 1 || !slices.Contains(auth.mechs, "PLAIN") {
		t.Errorf("stored %d, mechanisms offered %v", sink.distinct(), auth.mechs)
	}
	auth.password = "sbagliata"
	if err := NewSyncer(cfg, sink, testLogger(), nil).SyncOnce(context.Background()); err == nil {
		t.Error("a wrong password signed in")
	}
}

// quietRounds waits until the syncer has gone a second without starting a round (on a busy
// machine the rounds of the last delivery may still be running) and returns the count. A
// syncer that loops never goes quiet.
func quietRounds(t *testing.T, s *Syncer) uint64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.Status().Rounds
		time.Sleep(time.Second)
		if s.Status().Rounds == r {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the syncer never goes quiet: it loops instead of idling (%d rounds)", r)
		}
	}
}
