package council

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/rocca-pa/rocca"
)

// The minutes draft (verbale) is built from the record alone, never from a live Session: what
// the document says is what the record says, and anybody holding the record file can rebuild it.
// ReadMinutes turns the record into Minutes (data); Document lays Minutes out in one language;
// WriteODT and WriteHTML render that layout.

// Stamp places an event in the session and in the recording.
type Stamp struct {
	Seq       int64         // the entry's number in the record (0: no such event)
	Time      time.Time     // zero when the entry's time is unreadable
	Recording int           // the recording running at the event (1-based, see Minutes.Recordings); 0: none
	Offset    time.Duration // time since that recording started (only when Recording > 0)
}

// Valid reports whether the stamp refers to an event of the record.
func (s Stamp) Valid() bool { return s.Seq != 0 }

// Minutes is what the record says about a session, arranged for the verbale.
type Minutes struct {
	Session     string
	Title       string
	Opened      Stamp
	Closed      Stamp // !Closed.Valid(): the record has no session_closed entry
	ClosedBy    string
	Public      bool // at opening; PublicChanges follow
	Agenda      []AgendaItem
	QuorumRule  QuorumRule
	MediaWindow time.Duration

	Members       []Attendance // by seat
	RollCalls     []RollCallMinutes
	Quorum        []QuorumChange
	Suspensions   []Suspension
	PublicChanges []PublicChange
	Turns         []Turn
	Votes         []VoteMinutes
	Recordings    []Recording
	Files         []RecordingFile
	Events        []Event // every entry, in order

	// Names is for the caller to fill: the names of those behind "by" ids who are not members
	// (the Secretary, a President who is not a councillor). Without it the minutes show the id.
	Names map[string]string

	// The record itself.
	Entries      int     // entries read
	Skipped      int     // lines that are not readable entries (a damaged record)
	Sealed       bool    // the record ends with a seal line
	Valid        bool    // council.Verify accepts the record
	Problem      Problem // why it is not valid
	ProblemEntry int64   // the first altered entry (0: none, or the seal)
	SealedAt     time.Time
	Fingerprint  string // of the key in the seal (see Result.Fingerprint)
}

// Attendance is one member's presence through the session.
type Attendance struct {
	Member
	Movements     []Movement // arrivals, departures and reconnections
	Confirmations []Stamp    // each "presente"
	Overrides     []Override // the Secretary's
	Presence      []Interval // when the member counted as present
	RollCalls     []bool     // RollCalls[i]: present at Minutes.RollCalls[i]
}

// Movement is a member's connection coming or going.
type Movement struct {
	Stamp
	Kind string // "arrival", "departure" or "reconnection"
}

// Override is the Secretary marking a member present or absent, with a note.
type Override struct {
	Stamp
	Present   bool
	Note      string
	By        string
	Cleared   Stamp // !Cleared.Valid(): it stood to the end
	ClearedBy string
}

// Interval is a span of presence. !To.Valid(): until the record ends.
type Interval struct {
	From, To Stamp
}

// RollCallMinutes is one appello.
type RollCallMinutes struct {
	N         int
	Started   Stamp // !Started.Valid(): the start is not in the record
	StartedBy string
	Closed    Stamp // !Closed.Valid(): never closed
	ClosedBy  string
	Present   []Member
	Absent    []Member
	Counted   int // counted members present
	Required  int
	Quorum    bool
}

// QuorumChange is the quorum at opening, each time it was gained or lost, and at closing.
type QuorumChange struct {
	Stamp
	Kind     string // "initial", "gained", "lost" or "closing"
	Quorum   bool
	Present  int // counted members present
	Assigned int
	Required int
}

// Suspension is a suspension of the session and its resumption.
type Suspension struct {
	Suspended Stamp
	By        string
	Reason    string
	Resumed   Stamp // !Resumed.Valid(): not resumed
	ResumedBy string
}

// PublicChange is a switch between a public and a closed session.
type PublicChange struct {
	Stamp
	Public bool
	By     string
}

// Turn is a speaking turn: from the floor granted to the floor taken back (or given to another,
// or the session closed).
type Turn struct {
	Member
	Granted Stamp
	By      string
	Limit   time.Duration // 0: none
	Ended   Stamp         // !Ended.Valid(): the record ends first
	EndedBy string        // who took the floor back; "" when the session closed
}

// Duration is how long the member had the floor (0 when the end is unknown).
func (t Turn) Duration() time.Duration {
	if !t.Ended.Valid() || t.Ended.Time.IsZero() || t.Granted.Time.IsZero() {
		return 0
	}
	return t.Ended.Time.Sub(t.Granted.Time)
}

// VoteResult is the outcome of a vote as the minutes state it.
type VoteResult string

// The results. The rule is the usual one of council regulations: a proposal passes with more
// votes in favour than against; abstentions count for the quorum, not among the votes cast.
const (
	ResultNone     VoteResult = ""         // the vote was not closed
	ResultApproved VoteResult = "approved" // approvata
	ResultRejected VoteResult = "rejected" // respinta (a tie included)
)

// VoteMinutes is one vote. Secret votes have no names per choice: Voters is who voted, Totals the
// ballots, and nothing links the two (the record has no such link).
type VoteMinutes struct {
	N        int
	Item     string
	Text     string
	Secret   bool
	Opened   Stamp
	Closed   Stamp // !Closed.Valid(): never closed
	Eligible []Member
	Totals   Totals
	Voters   []Member
	ByName   map[Choice][]Member // open votes only
	Result   VoteResult
}

// Recording is one run of the recording, from start to stop.
type Recording struct {
	N         int
	Started   Stamp
	By        string
	Stopped   Stamp // !Stopped.Valid(): not stopped in the record
	StoppedBy string
}

// RecordingFile is a finished recording file with its SHA-256 (hex).
type RecordingFile struct {
	Stamp
	File   string
	SHA256 string
	Size   int64
}

// Event is one entry of the record, for the chronology. Fields not used by Type are zero.
type Event struct {
	Stamp
	Type    string
	Member  Member // the member the event is about (zero ID: none)
	By      string
	Present bool   // presence, override, public_changed
	Reason  string // presence (connected, media, ...), suspended
	Note    string // override
	Vote    int    // vote_*
	Item    string // vote_opened, vote_closed
	Choice  Choice // vote_cast
	Secret  bool   // vote_opened, vote_closed
	Limit   time.Duration
	File    string // recording_file; session_interrupted and session_opened: the other record
	Quorum  *QuorumChange
	Totals  *Totals // vote_closed
}

// Entry data, as session.go, presence.go, floor.go and vote.go write it.
type (
	openedData struct {
		Session       string        `json:"session"`
		Title         string        `json:"title"`
		Agenda        []AgendaItem  `json:"agenda"`
		Public        bool          `json:"public"`
		Members       []Member      `json:"members"`
		QuorumRule    QuorumRule    `json:"quorum_rule"`
		MediaWindowMS int64         `json:"media_window_ms"`
		Continues     *Continuation `json:"continues"`
	}
	quorumData struct {
		Quorum   bool   `json:"quorum"`
		Present  int    `json:"present"`
		Assigned int    `json:"assigned"`
		Required int    `json:"required"`
		By       string `json:"by"`
	}
	memberData struct {
		Member  string `json:"member"`
		Name    string `json:"name"`
		Seat    int    `json:"seat"`
		Present bool   `json:"present"`
		Reason  string `json:"reason"`
		Note    string `json:"note"`
		By      string `json:"by"`
		LimitS  int64  `json:"limit_s"`
		Vote    int    `json:"vote"`
		Choice  Choice `json:"choice"`
	}
	rollCallData struct {
		By     string   `json:"by"`
		Result RollCall `json:"result"`
	}
	voteData struct {
		Vote     int                 `json:"vote"`
		Item     string              `json:"item"`
		Text     string              `json:"text"`
		Secret   bool                `json:"secret"`
		Eligible json.RawMessage     `json:"eligible"` // the members at vote_opened, a number at vote_closed
		Totals   *Totals             `json:"totals"`
		ByName   map[Choice][]Member `json:"by_name"`
		Voters   []Member            `json:"voters"`
	}
	miscData struct {
		By     string `json:"by"`
		Reason string `json:"reason"`
		Public bool   `json:"public"`
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	}
)

// ReadMinutes reads a record (entries, then the seal line) and returns its minutes. It works on
// any readable record, sealed or not, valid or not, and says which in Minutes.Sealed and
// Minutes.Valid (council.Verify decides), so that a damaged record still yields a draft that
// declares itself untrustworthy. The error is for input that is not a session record at all.
func ReadMinutes(r io.Reader) (*Minutes, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRecord+1))
	if err != nil {
		return nil, fmt.Errorf("read record: %w", err)
	}
	if len(data) > maxRecord {
		return nil, rocca.Localized(rocca.ETOOLARGE, "council.minutes.error.too_large", "the record file is too large")
	}
	res, err := Verify(bytes.NewReader(data), nil)
	if err != nil {
		return nil, err
	}
	p := &parser{m: &Minutes{Valid: res.Valid, Problem: res.Problem, ProblemEntry: res.Entry},
		byID: map[string]int{}, votes: map[int]int{}, rollCall: -1, turn: -1}
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte(`{"seal":`)) {
			p.seal(line)
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil || e.Type == "" {
			p.m.Skipped++
			continue
		}
		if p.m.Entries == 0 && e.Type != "session_opened" {
			break // the first entry opens the session, or this is something else
		}
		if err := p.entry(e); err != nil {
			p.m.Skipped++
		}
	}
	if p.m.Entries == 0 {
		return nil, rocca.Localized(rocca.EINVALID, "council.minutes.error.not_record",
			"this is not the record of a council session")
	}
	p.finish()
	return p.m, nil
}

// parser holds the state of ReadMinutes between entries.
type parser struct {
	m         *Minutes
	byID      map[string]int // member id -> index in m.Members
	votes     map[int]int    // vote number -> index in m.Votes
	rollCall  int            // the roll call in progress (index), -1: none
	turn      int            // the speaking turn in progress (index), -1: none
	recording int            // the recording running (its N), 0: none
	recStart  time.Time
}

func (p *parser) seal(line []byte) {
	var sl sealLine
	if json.Unmarshal(line, &sl) != nil {
		return
	}
	p.m.Sealed = true
	if t, err := time.Parse(time.RFC3339Nano, sl.Seal.SealedAt); err == nil {
		p.m.SealedAt = t
	}
	if pub, err := base64.StdEncoding.DecodeString(sl.Seal.PublicKey); err == nil && len(pub) > 0 {
		p.m.Fingerprint = Result{PublicKey: pub}.Fingerprint()
	}
}

// stamp places entry e in time and in the running recording.
func (p *parser) stamp(e Entry) Stamp {
	t, _ := time.Parse(time.RFC3339Nano, e.Time)
	s := Stamp{Seq: e.Seq, Time: t}
	if p.recording > 0 && !t.IsZero() && !p.recStart.IsZero() {
		s.Recording, s.Offset = p.recording, t.Sub(p.recStart)
	}
	return s
}

// member returns the attendance of id, adding a member the roster lacks (a damaged record).
func (p *parser) member(id, name string, seat int) *Attendance {
	if i, ok := p.byID[id]; ok {
		return &p.m.Members[i]
	}
	p.byID[id] = len(p.m.Members)
	p.m.Members = append(p.m.Members, Attendance{Member: Member{ID: id, Name: name, Seat: seat}})
	return &p.m.Members[len(p.m.Members)-1]
}

func (p *parser) entry(e Entry) error {
	ev := Event{Stamp: p.stamp(e), Type: e.Type}
	var err error
	switch e.Type {
	case "session_opened":
		err = p.opened(e, &ev)
	case "quorum", "quorum_gained", "quorum_lost", "session_closed":
		err = p.quorum(e, &ev)
	case "arrival", "departure", "reconnection", "presence", "confirmed", "override", "override_cleared",
		"floor_requested", "floor_withdrawn", "floor_granted", "floor_revoked", "vote_cast":
		err = p.memberEvent(e, &ev)
	case "roll_call_started", "roll_call":
		err = p.rollCallEvent(e, &ev)
	case "vote_opened", "vote_voters", "vote_closed":
		err = p.voteEvent(e, &ev)
	case "suspended", "resumed", "public_changed", "recording_started", "recording_stopped", "recording_file",
		"session_interrupted":
		err = p.misc(e, &ev)
	}
	if err != nil {
		return err
	}
	p.m.Entries++
	p.m.Events = append(p.m.Events, ev)
	return nil
}

func (p *parser) opened(e Entry, ev *Event) error {
	if p.m.Opened.Valid() {
		return nil // a second one (a damaged record): only the chronology shows it
	}
	var d openedData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return err
	}
	p.m.Session, p.m.Title, p.m.Public, p.m.Opened = d.Session, d.Title, d.Public, ev.Stamp
	p.m.Agenda, p.m.QuorumRule = d.Agenda, d.QuorumRule
	p.m.MediaWindow = time.Duration(d.MediaWindowMS) * time.Millisecond
	if d.Continues != nil {
		ev.File = d.Continues.File // the record of the part before a server restart
	}
	for _, m := range d.Members {
		if _, dup := p.byID[m.ID]; !dup {
			p.member(m.ID, m.Name, m.Seat).Member = m
		}
	}
	return nil
}

func (p *parser) quorum(e Entry, ev *Event) error {
	var d quorumData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return err
	}
	kind := map[string]string{"quorum": "initial", "quorum_gained": "gained", "quorum_lost": "lost",
		"session_closed": "closing"}[e.Type]
	q := QuorumChange{Stamp: ev.Stamp, Kind: kind, Quorum: d.Quorum, Present: d.Present, Assigned: d.Assigned,
		Required: d.Required}
	p.m.Quorum = append(p.m.Quorum, q)
	ev.Quorum, ev.By = &q, d.By
	if e.Type == "session_closed" && !p.m.Closed.Valid() {
		p.m.Closed, p.m.ClosedBy = ev.Stamp, d.By
		p.endTurn(ev.Stamp, "")
		for i := range p.m.Members { // whoever is present stays so to the end
			if pr := p.m.Members[i].Presence; len(pr) > 0 && !pr[len(pr)-1].To.Valid() {
				pr[len(pr)-1].To = ev.Stamp
			}
		}
	}
	return nil
}

func (p *parser) endTurn(st Stamp, by string) {
	if p.turn >= 0 {
		p.m.Turns[p.turn].Ended, p.m.Turns[p.turn].EndedBy = st, by
		p.turn = -1
	}
}

func (p *parser) memberEvent(e Entry, ev *Event) error {
	var d memberData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return err
	}
	if d.Member == "" {
		return fmt.Errorf("%s: no member", e.Type)
	}
	a := p.member(d.Member, d.Name, d.Seat)
	ev.Member, ev.By, ev.Present, ev.Reason, ev.Note = a.Member, d.By, d.Present, d.Reason, d.Note
	ev.Vote, ev.Choice, ev.Limit = d.Vote, d.Choice, time.Duration(d.LimitS)*time.Second
	st := ev.Stamp
	switch e.Type {
	case "arrival", "departure", "reconnection":
		a.Movements = append(a.Movements, Movement{Stamp: st, Kind: e.Type})
	case "confirmed":
		a.Confirmations = append(a.Confirmations, st)
	case "presence":
		open := len(a.Presence) > 0 && !a.Presence[len(a.Presence)-1].To.Valid()
		switch {
		case d.Present && !open:
			a.Presence = append(a.Presence, Interval{From: st})
		case !d.Present && open:
			a.Presence[len(a.Presence)-1].To = st
		}
	case "override":
		a.Overrides = append(a.Overrides, Override{Stamp: st, Present: d.Present, Note: d.Note, By: d.By})
	case "override_cleared":
		if n := len(a.Overrides); n > 0 && !a.Overrides[n-1].Cleared.Valid() {
			a.Overrides[n-1].Cleared, a.Overrides[n-1].ClearedBy = st, d.By
		}
	case "floor_granted":
		p.endTurn(st, d.By)
		p.m.Turns = append(p.m.Turns, Turn{Member: a.Member, Granted: st, By: d.By, Limit: ev.Limit})
		p.turn = len(p.m.Turns) - 1
	case "floor_revoked":
		if p.turn >= 0 && p.m.Turns[p.turn].ID == a.ID {
			p.endTurn(st, d.By)
		}
	case "vote_cast":
		if !d.Choice.Valid() {
			return fmt.Errorf("vote_cast: choice %q", d.Choice)
		}
		v := p.vote(d.Vote)
		if v.Secret { // never names per choice for a secret vote, whatever the record says
			return fmt.Errorf("vote_cast in secret vote %d", d.Vote)
		}
		if v.ByName == nil {
			v.ByName = map[Choice][]Member{}
		}
		v.ByName[d.Choice] = append(v.ByName[d.Choice], a.Member)
		v.Voters = append(v.Voters, a.Member)
		v.Totals.add(d.Choice)
	}
	return nil
}

func (p *parser) rollCallEvent(e Entry, ev *Event) error {
	var d rollCallData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return err
	}
	ev.By = d.By
	if e.Type == "roll_call_started" {
		p.m.RollCalls = append(p.m.RollCalls, RollCallMinutes{N: len(p.m.RollCalls) + 1, Started: ev.Stamp, StartedBy: d.By})
		p.rollCall = len(p.m.RollCalls) - 1
		return nil
	}
	if p.rollCall < 0 {
		p.m.RollCalls = append(p.m.RollCalls, RollCallMinutes{N: len(p.m.RollCalls) + 1})
		p.rollCall = len(p.m.RollCalls) - 1
	}
	rc := &p.m.RollCalls[p.rollCall]
	rc.Closed, rc.ClosedBy = ev.Stamp, d.By
	rc.Present, rc.Absent = d.Result.Present, d.Result.Absent
	rc.Counted, rc.Required, rc.Quorum = d.Result.Counted, d.Result.Required, d.Result.Quorum
	for _, ms := range [][]Member{rc.Present, rc.Absent} {
		for _, m := range ms {
			p.member(m.ID, m.Name, m.Seat)
		}
	}
	p.rollCall = -1
	return nil
}

// vote returns vote n, adding it when the record has not opened it (a damaged record).
func (p *parser) vote(n int) *VoteMinutes {
	if i, ok := p.votes[n]; ok {
		return &p.m.Votes[i]
	}
	p.votes[n] = len(p.m.Votes)
	p.m.Votes = append(p.m.Votes, VoteMinutes{N: n})
	return &p.m.Votes[len(p.m.Votes)-1]
}

func (p *parser) voteEvent(e Entry, ev *Event) error {
	var d voteData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return err
	}
	v := p.vote(d.Vote)
	switch e.Type {
	case "vote_opened":
		var eligible []Member
		if err := json.Unmarshal(d.Eligible, &eligible); err != nil && len(d.Eligible) > 0 {
			return err
		}
		v.Item, v.Text, v.Secret, v.Opened, v.Eligible = d.Item, d.Text, d.Secret, ev.Stamp, eligible
	case "vote_voters":
		v.Voters = d.Voters
	case "vote_closed":
		v.Closed, v.Secret = ev.Stamp, v.Secret || d.Secret
		if v.Item == "" {
			v.Item = d.Item
		}
		if d.Totals != nil {
			v.Totals = *d.Totals
		}
		if !v.Secret && d.ByName != nil {
			v.ByName = d.ByName
		}
		if !v.Secret && d.Voters != nil {
			v.Voters = d.Voters
		}
		t := v.Totals
		ev.Totals = &t
	}
	if v.Secret {
		v.ByName = nil
	}
	ev.Vote, ev.Item, ev.Secret = d.Vote, v.Item, v.Secret
	return nil
}

func (p *parser) misc(e Entry, ev *Event) error {
	var d miscData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return err
	}
	ev.By = d.By
	st := ev.Stamp
	switch e.Type {
	case "suspended":
		p.m.Suspensions = append(p.m.Suspensions, Suspension{Suspended: st, By: d.By, Reason: d.Reason})
		ev.Reason = d.Reason
	case "resumed":
		if n := len(p.m.Suspensions); n > 0 && !p.m.Suspensions[n-1].Resumed.Valid() {
			p.m.Suspensions[n-1].Resumed, p.m.Suspensions[n-1].ResumedBy = st, d.By
		}
	case "public_changed":
		p.m.PublicChanges = append(p.m.PublicChanges, PublicChange{Stamp: st, Public: d.Public, By: d.By})
		ev.Present = d.Public
	case "recording_started": // the running recording from now on, at offset 0 of it
		p.recording, p.recStart = len(p.m.Recordings)+1, st.Time
		if !st.Time.IsZero() {
			ev.Recording, ev.Offset = p.recording, 0
		}
		p.m.Recordings = append(p.m.Recordings, Recording{N: p.recording, Started: ev.Stamp, By: d.By})
	case "recording_stopped":
		if p.recording > 0 && p.recording <= len(p.m.Recordings) {
			p.m.Recordings[p.recording-1].Stopped, p.m.Recordings[p.recording-1].StoppedBy = st, d.By
		}
		p.recording = 0
	case "recording_file":
		p.m.Files = append(p.m.Files, RecordingFile{Stamp: st, File: d.File, SHA256: d.SHA256, Size: d.Size})
		ev.File = d.File
	case "session_interrupted": // the record the session continues in
		ev.File, ev.Reason = d.File, d.Reason
	}
	return nil
}

// finish derives what needs the whole record: each member at each roll call, vote results.
func (p *parser) finish() {
	m := p.m
	slices.SortStableFunc(m.Members, func(a, b Attendance) int { return a.Seat - b.Seat })
	for i := range m.Members {
		a := &m.Members[i]
		a.RollCalls = make([]bool, len(m.RollCalls))
		for j, rc := range m.RollCalls {
			a.RollCalls[j] = slices.ContainsFunc(rc.Present, func(x Member) bool { return x.ID == a.ID })
		}
	}
	for i := range m.Votes {
		v := &m.Votes[i]
		if !v.Secret {
			if v.ByName == nil {
				v.ByName = map[Choice][]Member{}
			}
			for _, c := range []Choice{Favorevole, Contrario, Astenuto} {
				if v.ByName[c] == nil {
					v.ByName[c] = []Member{}
				}
			}
		}
		switch {
		case !v.Closed.Valid():
			v.Result = ResultNone
		case v.Totals.Favorevole > v.Totals.Contrario:
			v.Result = ResultApproved
		default:
			v.Result = ResultRejected
		}
	}
}
