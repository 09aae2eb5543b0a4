package council

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rocca-pa/rocca"
)

// DefaultMediaWindow is how long a member stays present without any media reaching the server.
const DefaultMediaWindow = 10 * time.Second

// Config describes a session when it opens.
type Config struct {
	ID          string // the session (meeting) id, written in the first entry
	Title       string
	Agenda      []AgendaItem // the order of the day (ordine del giorno), written in the first entry
	Public      bool         // a public session (streamed); false: seduta riservata
	Members     []Member
	Quorum      QuorumRule
	MediaWindow time.Duration    // 0: DefaultMediaWindow
	Now         func() time.Time // nil: time.Now
	Record      *Record          // where events go; the Session owns it from now on
	// Continues names the record of the same session that a server restart interrupted, if any;
	// it is written in the first entry.
	Continues *Continuation
	Notify    func(Entry) // optional: called after each event, outside the Session's lock
}

// Continuation points a record back to the one a server restart interrupted (SealInterrupted):
// its file name and the hash of its last entry.
type Continuation struct {
	File     string `json:"file"`
	LastHash string `json:"last_hash,omitempty"` // empty if that record could not be sealed
}

// Session is one live council session. Its methods are safe for concurrent use; each change is
// written to the record before the method returns.
type Session struct {
	cfg    Config
	window time.Duration
	now    func() time.Time
	rec    *Record

	mu        sync.Mutex
	members   []*presence // by seat
	byID      map[string]*presence
	quorum    bool
	suspended bool
	rollCall  bool
	queue     []string // floor requests, oldest first
	speaker   string
	vote      *vote
	votes     int
	closed    bool
	public    bool
	recording bool
	pending   []Entry // events to hand to Notify after unlocking
}

// AgendaItem is one point of the order of the day.
type AgendaItem struct {
	N     int    `json:"n"`
	Title string `json:"title"`
}

// presence is what the Session knows of one member. Guarded by Session.mu.
type presence struct {
	Member
	connected bool
	seen      bool      // connected at least once
	lastMedia time.Time // zero: no media yet on this connection
	confirmed bool      // said "presente"
	override  *override
	present   bool // as last evaluated
}

type override struct {
	present bool
	note    string
	by      string
}

// New opens a session and writes its first entries (session_opened, quorum).
func New(cfg Config) (*Session, error) {
	if err := validateMembers(cfg.Members); err != nil {
		return nil, err
	}
	assigned := 0
	for _, m := range cfg.Members {
		if m.CountsForQuorum {
			assigned++
		}
	}
	if err := cfg.Quorum.Validate(assigned); err != nil {
		return nil, err
	}
	if cfg.Record == nil {
		return nil, fmt.Errorf("council session: no record")
	}
	s := &Session{cfg: cfg, window: cfg.MediaWindow, now: cfg.Now, rec: cfg.Record, byID: map[string]*presence{},
		public: cfg.Public}
	if s.window <= 0 {
		s.window = DefaultMediaWindow
	}
	if s.now == nil {
		s.now = time.Now
	}
	ms := slices.Clone(cfg.Members)
	slices.SortFunc(ms, func(a, b Member) int { return a.Seat - b.Seat })
	for _, m := range ms {
		p := &presence{Member: m}
		s.members = append(s.members, p)
		s.byID[m.ID] = p
	}
	s.mu.Lock()
	opened := map[string]any{"session": cfg.ID, "title": cfg.Title, "agenda": cfg.Agenda, "public": cfg.Public,
		"members": ms, "quorum_rule": cfg.Quorum, "media_window_ms": s.window.Milliseconds()}
	if cfg.Continues != nil {
		opened["continues"] = cfg.Continues
	}
	err := s.appendLocked("session_opened", opened)
	if err == nil {
		err = s.appendLocked("quorum", s.quorumDataLocked())
	}
	s.mu.Unlock()
	s.flush()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// appendLocked writes an event and queues it for Notify.
func (s *Session) appendLocked(typ string, data any) error {
	e, err := s.rec.Append(s.now(), typ, data)
	if err != nil {
		return err
	}
	s.pending = append(s.pending, e)
	return nil
}

// flush hands the queued events to Notify. Called without the lock, after every change.
func (s *Session) flush() {
	s.mu.Lock()
	p := s.pending
	s.pending = nil
	s.mu.Unlock()
	if s.cfg.Notify == nil {
		return
	}
	for _, e := range p {
		s.cfg.Notify(e)
	}
}

// do runs f under the lock on an open session, then notifies.
func (s *Session) do(f func() error) error {
	s.mu.Lock()
	var err error
	if s.closed {
		err = rocca.Localized(rocca.EGONE, "council.error.closed", "the session is closed")
	} else {
		err = f()
	}
	s.mu.Unlock()
	s.flush()
	return err
}

func (s *Session) memberLocked(id string) (*presence, error) {
	p := s.byID[id]
	if p == nil {
		return nil, rocca.Localized(rocca.EFORBIDDEN, "council.error.not_member", "not a member of the assembly")
	}
	return p, nil
}

func who(p *presence) map[string]any {
	return map[string]any{"member": p.ID, "name": p.Name, "seat": p.Seat}
}

func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// Suspend suspends the session (connection failure, the President's decision).
func (s *Session) Suspend(by, reason string) error {
	return s.do(func() error {
		if s.suspended {
			return rocca.Localized(rocca.ECONFLICT, "council.error.suspended", "the session is suspended")
		}
		s.suspended = true
		return s.appendLocked("suspended", map[string]any{"by": by, "reason": reason})
	})
}

// Resume resumes a suspended session.
func (s *Session) Resume(by string) error {
	return s.do(func() error {
		if !s.suspended {
			return rocca.Localized(rocca.ECONFLICT, "council.error.not_suspended", "the session is not suspended")
		}
		s.suspended = false
		return s.appendLocked("resumed", map[string]any{"by": by})
	})
}

// SetPublic switches between a public session and a closed one (seduta riservata). The caller
// starts or stops the public stream accordingly.
func (s *Session) SetPublic(public bool, by string) error {
	return s.do(func() error {
		if s.public == public {
			return nil
		}
		s.public = public
		return s.appendLocked("public_changed", map[string]any{"public": public, "by": by})
	})
}

// RecordingStarted records that the President started the recording. Offsets in the minutes
// count from here.
func (s *Session) RecordingStarted(by string) error {
	return s.do(func() error {
		if s.recording {
			return rocca.Localized(rocca.ECONFLICT, "council.error.recording", "the recording is already running")
		}
		s.recording = true
		return s.appendLocked("recording_started", map[string]any{"by": by})
	})
}

// RecordingStopped records that the recording stopped.
func (s *Session) RecordingStopped(by string) error {
	return s.do(func() error {
		if !s.recording {
			return rocca.Localized(rocca.ECONFLICT, "council.error.not_recording", "the recording is not running")
		}
		s.recording = false
		return s.appendLocked("recording_stopped", map[string]any{"by": by})
	})
}

// RecordingFile records a finished recording file and its SHA-256 (hex).
func (s *Session) RecordingFile(name, sha256Hex string, size int64) error {
	return s.do(func() error {
		return s.appendLocked("recording_file", map[string]any{"file": name, "sha256": sha256Hex, "size": size})
	})
}

// Close ends the session: an open vote is closed, the last event is written and the record is
// sealed with key. The Session accepts nothing afterwards.
func (s *Session) Close(by string, key ed25519.PrivateKey) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return rocca.Localized(rocca.EGONE, "council.error.closed", "the session is closed")
	}
	var err error
	if s.vote != nil {
		_, err = s.closeVoteLocked()
	}
	if err == nil {
		err = s.appendLocked("session_closed", with(s.quorumDataLocked(), "by", by))
	}
	s.closed = true
	s.mu.Unlock()
	s.flush()
	if err != nil {
		_ = s.rec.Close()
		return err
	}
	return s.rec.Seal(key, s.now())
}
