package mailin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

// Syncer copies the mail of one IMAP folder into a Sink, exactly once per message, and keeps the
// folder empty by moving (or flagging) what it has handed over.
//
// A round: SELECT the folder and note its UIDVALIDITY; ask the sink for its Position; list every
// UID in the folder (UID SEARCH over all UIDs, never by \Seen or by date); move the ones the sink
// already holds (a crash after the sink's commit left them behind); fetch the others with
// BODY.PEEK[] in UID order, in batches, hand each to the sink and move each batch once the sink
// has committed it. A UIDVALIDITY that differs from the sink's makes every message new again: the
// sink dedupes them by Message-ID. Between rounds the connection IDLEs; a new message, or the
// safety poll, starts the next round. Any error closes the connection and Run reconnects after a
// jittered, growing backoff.
type Syncer struct {
	cfg    IMAPConfig
	sink   Sink
	logger *slog.Logger
	now    func() time.Time

	mu        sync.Mutex
	lastSync  time.Time // end of the last complete round
	lastError string    // "" after a successful round
	connected bool
	handled   uint64 // messages handed to the sink since start
	rounds    uint64 // complete rounds since start
}

// Status is the Syncer's health, for /readyz and metrics.
type Status struct {
	Connected bool      `json:"connected"`
	LastSync  time.Time `json:"last_sync"` // zero before the first complete round
	LastError string    `json:"last_error,omitempty"`
	Handled   uint64    `json:"handled"` // messages handed to the sink since start
	Rounds    uint64    `json:"rounds"`  // complete rounds since start (new mail, safety polls, reconnects)
}

// NewSyncer returns a syncer of cfg.Folder into sink. Call cfg.Validate first to report mistakes at
// start. now is the clock (time.Now outside tests).
func NewSyncer(cfg IMAPConfig, sink Sink, logger *slog.Logger, now func() time.Time) *Syncer {
	if now == nil {
		now = time.Now
	}
	return &Syncer{
		cfg:    cfg.withDefaults(),
		sink:   sink,
		logger: logger.With("part", "helpdesk", "imap", cfg.Host, "folder", cfg.Folder),
		now:    now,
	}
}

// Status returns the current health.
func (s *Syncer) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{Connected: s.connected, LastSync: s.lastSync, LastError: s.lastError, Handled: s.handled, Rounds: s.rounds}
}

// LastSync returns when the last complete round ended (zero before the first).
func (s *Syncer) LastSync() time.Time { return s.Status().LastSync }

// Run syncs until ctx is done, reconnecting after errors. It returns nil when ctx ends.
func (s *Syncer) Run(ctx context.Context) error {
	failures := 0
	for {
		synced, err := s.session(ctx, false)
		if ctx.Err() != nil {
			return nil
		}
		if synced {
			failures = 0
		}
		failures++
		wait := s.backoff(failures)
		s.logger.Warn("imap session ended; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// SyncOnce connects, runs one round and logs out. Tests and the CLI use it.
func (s *Syncer) SyncOnce(ctx context.Context) error {
	_, err := s.session(ctx, true)
	return err
}

// backoff is the wait before reconnect attempt n (1, 2, …): doubling from MinBackoff up to
// MaxBackoff, with "full jitter" between half and all of it so that many instances do not retry
// in step.
func (s *Syncer) backoff(n int) time.Duration {
	d := s.cfg.MinBackoff
	for i := 1; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func (s *Syncer) setError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastError = err.Error()
	}
}

func (s *Syncer) setConnected(v bool) {
	s.mu.Lock()
	s.connected = v
	s.mu.Unlock()
}

// session runs one connection: rounds separated by IDLE until an error or ctx ends (or after
// one round when once is set). synced reports whether at least one round completed.
func (s *Syncer) session(ctx context.Context, once bool) (synced bool, err error) {
	defer func() { s.setError(err) }()
	c, err := dial(ctx, s.cfg)
	if err != nil {
		return false, err
	}
	s.setConnected(true)
	defer s.setConnected(false)

	// Updates must be drained all the time: a full channel blocks the client's reader. The
	// drainer ends when the reader does (LoggedOut), so it never leaves a goroutine behind.
	updates := make(chan client.Update, 64)
	c.Updates = updates
	newMail := make(chan struct{}, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case u := <-updates:
				if _, ok := u.(*client.MailboxUpdate); ok {
					select {
					case newMail <- struct{}{}:
					default:
					}
				}
			case <-c.LoggedOut():
				return
			}
		}
	}()
	// A cancelled ctx closes the connection, which ends any command waiting on the server.
	stop := context.AfterFunc(ctx, func() { c.Terminate() })
	defer func() {
		stop()
		if c.State() != imap.LogoutState {
			c.Timeout = 5 * time.Second
			if c.Logout() != nil {
				c.Terminate()
			}
		}
		c.Terminate()
		<-drained
	}()

	r, err := s.prepare(c)
	if err != nil {
		return false, err
	}
	for {
		if err := s.round(ctx, c, r); err != nil {
			return synced, err
		}
		synced = true
		if once {
			return true, nil
		}
		if err := s.idle(ctx, c, newMail); err != nil {
			return synced, err
		}
	}
}

// roundState is what a session knows about its folders.
type roundState struct {
	folder    string // the server name of cfg.Folder
	processed string // the server name of cfg.ProcessedFolder, "" to flag instead
}

// prepare finds the folder names, creates the processed folder if needed and selects the folder.
func (s *Syncer) prepare(c *client.Client) (roundState, error) {
	var r roundState
	var err error
	if r.folder, err = serverName(c, s.cfg.Folder); err != nil {
		return r, err
	}
	if s.cfg.ProcessedFolder != "" {
		if r.processed, err = serverName(c, s.cfg.ProcessedFolder); err != nil {
			return r, err
		}
		if err := ensureFolder(c, r.processed); err != nil {
			return r, err
		}
	}
	return r, nil
}

// round brings the folder and the sink in step (see Syncer).
func (s *Syncer) round(ctx context.Context, c *client.Client, r roundState) error {
	mbox, err := c.Select(r.folder, false)
	if err != nil {
		return fmt.Errorf("select %s: %w", r.folder, err)
	}
	// Select returns the client's live status, which later EXISTS responses change: copy now.
	validity := mbox.UidValidity
	pos, err := s.sink.Position(ctx, s.cfg.Folder)
	if err != nil {
		return fmt.Errorf("sink position: %w", err)
	}
	uids, err := s.listUIDs(c)
	if err != nil {
		return err
	}
	var done, todo []uint32
	for _, uid := range uids {
		if pos.UIDValidity == validity && uid <= pos.LastUID {
			done = append(done, uid)
		} else {
			todo = append(todo, uid)
		}
	}
	if pos.UIDValidity != 0 && pos.UIDValidity != validity && len(todo) > 0 {
		s.logger.Warn("UIDVALIDITY changed: every message is handed over again and deduplicated by Message-ID",
			"old", pos.UIDValidity, "new", validity, "messages", len(todo))
	}
	if err := s.finish(c, r, done); err != nil {
		return err
	}
	for len(todo) > 0 {
		n := min(len(todo), s.cfg.Batch)
		if err := s.batch(ctx, c, r, validity, todo[:n]); err != nil {
			return err
		}
		todo = todo[n:]
	}
	s.mu.Lock()
	s.lastSync, s.lastError = s.now(), ""
	s.rounds++
	s.mu.Unlock()
	return nil
}

// listUIDs returns the UIDs of every message in the selected folder that is still to handle, in
// ascending order.
func (s *Syncer) listUIDs(c *client.Client) ([]uint32, error) {
	crit := imap.NewSearchCriteria()
	crit.Uid = new(imap.SeqSet)
	crit.Uid.AddRange(1, 0) // 1:*
	if s.cfg.ProcessedFolder == "" {
		crit.WithoutFlags = []string{ProcessedKeyword}
	}
	uids, err := c.UidSearch(crit)
	if err != nil {
		return nil, fmt.Errorf("uid search: %w", err)
	}
	slices.Sort(uids)
	return slices.Compact(uids), nil
}

// batch fetches the messages and hands them to the sink in UID order, then moves those the sink
// has committed, even when a later one failed.
func (s *Syncer) batch(ctx context.Context, c *client.Client, r roundState, validity uint32, uids []uint32) error {
	bodies, err := fetchBodies(c, uids)
	if err != nil {
		return err
	}
	var stored []uint32
	var deliverErr error
	for _, uid := range uids {
		raw, ok := bodies[uid]
		if !ok {
			continue // expunged by someone else meanwhile
		}
		ref := Ref{Mailbox: s.cfg.Folder, UIDValidity: validity, UID: uid}
		if err := s.sink.Deliver(ctx, raw, ref); err != nil {
			deliverErr = fmt.Errorf("deliver uid %d: %w", uid, err)
			break
		}
		stored = append(stored, uid)
		s.mu.Lock()
		s.handled++
		s.mu.Unlock()
	}
	if err := s.finish(c, r, stored); err != nil {
		return errors.Join(deliverErr, err)
	}
	return deliverErr
}

// fetchBodies fetches the whole raw messages without setting \Seen.
func fetchBodies(c *client.Client, uids []uint32) (map[uint32][]byte, error) {
	set := new(imap.SeqSet)
	set.AddNum(uids...)
	section := &imap.BodySectionName{Peek: true}
	items := []imap.FetchItem{imap.FetchUid, section.FetchItem()}
	ch := make(chan *imap.Message, 16)
	done := make(chan error, 1)
	go func() { done <- c.UidFetch(set, items, ch) }()
	bodies := make(map[uint32][]byte, len(uids))
	var readErr error
	for msg := range ch {
		lit := msg.GetBody(section)
		if lit == nil || msg.Uid == 0 {
			continue
		}
		b, err := io.ReadAll(lit)
		if err != nil && readErr == nil {
			readErr = fmt.Errorf("read uid %d: %w", msg.Uid, err)
		}
		bodies[msg.Uid] = b
	}
	if err := <-done; err != nil {
		return nil, fmt.Errorf("uid fetch: %w", err)
	}
	return bodies, readErr
}

// finish moves (or flags) messages the sink has stored.
func (s *Syncer) finish(c *client.Client, r roundState, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	set := new(imap.SeqSet)
	set.AddNum(uids...)
	if r.processed == "" {
		if err := flagMessages(c, set); err != nil {
			return fmt.Errorf("flag processed: %w", err)
		}
		return nil
	}
	if err := moveMessages(c, set, r.processed); err != nil {
		return fmt.Errorf("move to %s: %w", r.processed, err)
	}
	return nil
}

// idle waits for new mail (IDLE), the safety poll or ctx. Commands have a deadline (Timeout) but
// IDLE must not: it is lifted while idling, and a connection that does not answer DONE within
// Timeout is closed.
//
// The round's own SELECT makes the server report EXISTS, which would look like new mail and start
// round after round: those signals are dropped first. Mail that arrived during the round is then
// found by one more look at the folder; mail that arrives from that moment on signals again.
func (s *Syncer) idle(ctx context.Context, c *client.Client, newMail <-chan struct{}) error {
	select {
	case <-newMail:
	default:
	}
	if pending, err := s.listUIDs(c); err != nil {
		return err
	} else if len(pending) > 0 {
		return nil
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	c.Timeout = 0
	go func() { done <- c.Idle(stop, &client.IdleOptions{LogoutTimeout: -1, PollInterval: s.cfg.PollInterval}) }()
	poll := time.NewTimer(s.cfg.PollInterval)
	defer poll.Stop()
	var waitErr error
	select {
	case err := <-done:
		c.Timeout = s.cfg.Timeout
		if err == nil {
			err = errors.New("idle ended by the server")
		}
		return fmt.Errorf("idle: %w", err)
	case <-newMail:
	case <-poll.C:
	case <-ctx.Done():
		waitErr = ctx.Err()
	}
	close(stop)
	select {
	case err := <-done:
		c.Timeout = s.cfg.Timeout
		if err != nil {
			return fmt.Errorf("idle: %w", err)
		}
	case <-time.After(s.cfg.Timeout):
		c.Terminate()
		<-done
		return errors.New("idle: the server did not answer DONE")
	}
	return waitErr
}
