package conferencing

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
)

// States of a council session, as stored (conf_council.state).
const (
	CouncilScheduled = "scheduled" // set up, not opened yet
	CouncilOpen      = "open"      // the President opened it: its record is being written
	CouncilClosed    = "closed"    // closed and sealed; its setup can no longer change
)

// Limits of a council setup.
const (
	maxSeats       = 200
	maxAgendaItems = 100
)

// CouncilSetup is what staff decide before a council session: who presides, who takes the
// minutes, the assembly, the order of the day and the rules.
type CouncilSetup struct {
	Chair     int64              `json:"chair"`     // user id of the President
	Secretary int64              `json:"secretary"` // user id of the Secretary
	Seats     []Seat             `json:"seats"`
	Agenda    []string           `json:"agenda"` // the items of the order of the day, in order
	Quorum    council.QuorumRule `json:"quorum"`
	Public    bool               `json:"public"` // false: seduta riservata (no public stream)
	// RecordClosed allows recording while the session is closed to the public.
	RecordClosed bool `json:"record_closed"`
}

// Seat is one member of the assembly.
type Seat struct {
	UserID          int64  `json:"user_id"`
	Seat            int    `json:"seat"`
	CountsForQuorum bool   `json:"counts_for_quorum"`
	Name            string `json:"name,omitempty"` // from the account, when saved
}

// Council is the council setup of a meeting and the state of its session.
type Council struct {
	Meeting string `json:"meeting"` // the meeting's public id
	CouncilSetup
	State      string    `json:"state"`                 // scheduled, open, closed
	RecordFile string    `json:"record_file,omitempty"` // the record, relative to Config.CouncilDir
	OpenedAt   time.Time `json:"opened_at,omitzero"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
}

// CouncilVote is the outcome of a closed vote as stored: totals only, never who chose what.
type CouncilVote struct {
	N        int            `json:"n"`
	Item     string         `json:"item"`
	Secret   bool           `json:"secret"`
	Eligible int            `json:"eligible"`
	Totals   council.Totals `json:"totals"`
	ClosedAt time.Time      `json:"closed_at"`
}

// UserDirectory is what the council setup needs from the accounts besides Users: the people to
// choose the assembly from, and names by id. The Service uses it when Deps.Users implements it
// (internal/auth does).
type UserDirectory interface {
	Users(ctx context.Context) ([]*rocca.User, error)
	UserByID(ctx context.Context, id int64) (*rocca.User, error)
}

func (s *Service) directory() (UserDirectory, bool) {
	d, ok := s.users.(UserDirectory)
	return d, ok
}

// memberID is the id of a user's seat inside council.Session: stable across reconnections.
func memberID(user int64) string { return "u" + strconv.FormatInt(user, 10) }

// roleOf is the council role of a user: chair, secretary, member (a seat), or "" (not part of
// the session: they wait in the lobby like a guest).
func (c *Council) roleOf(user int64) Role {
	switch {
	case user <= 0:
		return ""
	case user == c.Chair:
		return RoleChair
	case user == c.Secretary:
		return RoleSecretary
	case c.seatOf(user) != nil:
		return RoleMember
	}
	return ""
}

func (c *Council) seatOf(user int64) *Seat {
	for i := range c.Seats {
		if c.Seats[i].UserID == user {
			return &c.Seats[i]
		}
	}
	return nil
}

// members is the assembly as council.Session wants it.
func (c *Council) members() []council.Member {
	out := make([]council.Member, 0, len(c.Seats))
	for _, st := range c.Seats {
		out = append(out, council.Member{ID: memberID(st.UserID), Name: st.Name, Seat: st.Seat, CountsForQuorum: st.CountsForQuorum})
	}
	return out
}

func (c *Council) agenda() []council.AgendaItem {
	out := make([]council.AgendaItem, 0, len(c.Agenda))
	for i, t := range c.Agenda {
		out = append(out, council.AgendaItem{N: i + 1, Title: t})
	}
	return out
}

// Council returns the council setup and state of a meeting; ENOTFOUND when it has none.
func (s *Service) Council(ctx context.Context, meetingPublicID string) (*Council, error) {
	m, err := meetingByPublicID(ctx, s.db, meetingPublicID)
	if err != nil {
		return nil, err
	}
	c, err := councilOf(ctx, s.db, m)
	if err == nil && c == nil {
		err = rocca.Localized(rocca.ENOTFOUND, "conf.error.council_not_set", "the council session is not set up yet")
	}
	return c, err
}

// CouncilVotes lists the totals of the votes of a meeting's council session, oldest first.
func (s *Service) CouncilVotes(ctx context.Context, meetingPublicID string) ([]CouncilVote, error) {
	m, err := meetingByPublicID(ctx, s.db, meetingPublicID)
	if err != nil {
		return nil, err
	}
	return councilVotes(ctx, s.db, m.ID)
}

// CouncilRecordPath is the file of the session's record (sealed once the session is closed), or
// "" before the session was first opened.
func (s *Service) CouncilRecordPath(ctx context.Context, meetingPublicID string) (string, error) {
	c, err := s.Council(ctx, meetingPublicID)
	if err != nil || c.RecordFile == "" {
		return "", err
	}
	return s.councilPath(c.RecordFile), nil
}

// SetCouncil saves the council setup of a council meeting. It is refused once the session has
// been opened. People connected to the meeting get their new roles at once.
func (s *Service) SetCouncil(ctx context.Context, meetingPublicID string, in CouncilSetup) (*Council, error) {
	m, err := meetingByPublicID(ctx, s.db, meetingPublicID)
	if err != nil {
		return nil, err
	}
	if !m.Council {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.council_not_council", "this meeting is not a council session")
	}
	c := &Council{Meeting: m.PublicID, CouncilSetup: in, State: CouncilScheduled}
	if err := s.validateCouncil(ctx, &c.CouncilSetup); err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		old, err := councilOf(ctx, tx, m)
		if err != nil {
			return err
		}
		if err := setupChangeable(old); err != nil {
			return err
		}
		return saveCouncil(ctx, tx, m.ID, &c.CouncilSetup)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("council session set up", "meeting", m.PublicID, "seats", len(c.Seats), "agenda", len(c.Agenda))
	s.councilSetupChanged(ctx, m, c)
	return c, nil
}

// setupChangeable refuses changes to a session that was opened: its record already names the
// assembly and the rules.
func setupChangeable(c *Council) error {
	switch {
	case c == nil:
		return nil
	case c.State == CouncilOpen:
		return rocca.Localized(rocca.ECONFLICT, "conf.error.council_open", "the session is open: its setup cannot change")
	case c.State == CouncilClosed:
		return rocca.Localized(rocca.ECONFLICT, "conf.error.council_closed", "the session is closed")
	}
	return nil
}

// validateCouncil checks a setup, fills in the seat names from the accounts and normalises the
// agenda.
func (s *Service) validateCouncil(ctx context.Context, c *CouncilSetup) error {
	dir, ok := s.directory()
	if !ok {
		return rocca.Localized(rocca.EUNAVAILABLE, "conf.error.council_no_directory", "no user directory to set up a council")
	}
	switch {
	case c.Chair <= 0:
		return rocca.Localized(rocca.EINVALID, "conf.error.council_chair_required", "choose the President")
	case c.Secretary <= 0:
		return rocca.Localized(rocca.EINVALID, "conf.error.council_secretary_required", "choose the Secretary")
	case c.Chair == c.Secretary:
		return rocca.Localized(rocca.EINVALID, "conf.error.council_chair_secretary", "the President and the Secretary must be two people")
	case len(c.Seats) == 0:
		return rocca.Localized(rocca.EINVALID, "council.error.no_members", "the assembly has no members")
	case len(c.Seats) > maxSeats:
		return rocca.Localized(rocca.EINVALID, "conf.error.council_too_many_seats", "too many seats", maxSeats)
	}
	for _, id := range []int64{c.Chair, c.Secretary} {
		if _, err := s.councilUser(ctx, dir, id); err != nil {
			return err
		}
	}
	assigned := 0
	seats, users := map[int]bool{}, map[int64]bool{}
	for i := range c.Seats {
		st := &c.Seats[i]
		if st.Seat < 1 || st.Seat > 9999 {
			return rocca.Localized(rocca.EINVALID, "conf.error.council_seat_invalid", "seat number out of range", st.Seat)
		}
		if seats[st.Seat] {
			return rocca.Localized(rocca.EINVALID, "conf.error.council_seat_duplicate", "seat given twice", st.Seat)
		}
		u, err := s.councilUser(ctx, dir, st.UserID)
		if err != nil {
			return err
		}
		if users[st.UserID] {
			return rocca.Localized(rocca.EINVALID, "conf.error.council_user_duplicate", "a person holds two seats", u.Name)
		}
		seats[st.Seat], users[st.UserID] = true, true
		st.Name = u.Name
		if st.CountsForQuorum {
			assigned++
		}
	}
	slices.SortFunc(c.Seats, func(a, b Seat) int { return a.Seat - b.Seat })
	if assigned == 0 {
		return rocca.Localized(rocca.EINVALID, "conf.error.council_none_counted", "no member counts for the quorum")
	}
	if err := c.Quorum.Validate(assigned); err != nil {
		return err
	}
	if c.Quorum.Kind != council.QuorumCustom {
		c.Quorum.N = 0
	}
	return normaliseAgenda(c)
}

// councilUser is an enabled account, or a user error naming the id.
func (s *Service) councilUser(ctx context.Context, dir UserDirectory, id int64) (*rocca.User, error) {
	u, err := dir.UserByID(ctx, id)
	if rocca.ErrorCodeOf(err) == rocca.ENOTFOUND || (err == nil && u == nil) {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.council_user_unknown", fmt.Sprintf("no account %d", id), id)
	}
	if err != nil {
		return nil, fmt.Errorf("council user %d: %w", id, err)
	}
	if u.Disabled {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.council_user_disabled", "the account is disabled", u.Name)
	}
	return u, nil
}

func normaliseAgenda(c *CouncilSetup) error {
	var out []string
	for _, a := range c.Agenda {
		a = strings.Join(strings.Fields(a), " ")
		if a == "" {
			continue
		}
		if utf8.RuneCountInString(a) > maxCouncilShort || hasControl(a) {
			return rocca.Localized(rocca.EINVALID, "conf.error.council_agenda_item", "agenda item too long", len(out)+1, maxCouncilShort)
		}
		out = append(out, a)
	}
	if len(out) > maxAgendaItems {
		return rocca.Localized(rocca.EINVALID, "conf.error.council_agenda_long", "too many agenda items", maxAgendaItems)
	}
	c.Agenda = out
	return nil
}

// CouncilRequest is SetCouncil for the admin socket and the command line: people by e-mail.
type CouncilRequest struct {
	Meeting      string               `json:"meeting"`   // the meeting's public id
	Chair        string               `json:"chair"`     // e-mail of the President's account
	Secretary    string               `json:"secretary"` // e-mail of the Secretary's account
	Seats        []CouncilSeatRequest `json:"seats"`
	Agenda       []string             `json:"agenda"`
	Quorum       council.QuorumRule   `json:"quorum"`
	Public       bool                 `json:"public"`
	RecordClosed bool                 `json:"record_closed"`
}

// CouncilSeatRequest is one seat of a CouncilRequest.
type CouncilSeatRequest struct {
	Email           string `json:"email"`
	Seat            int    `json:"seat"`
	CountsForQuorum *bool  `json:"counts_for_quorum,omitempty"` // default true
}

// SetCouncilByEmail is SetCouncil with people named by their e-mail address, for the admin
// socket (cmd/rocca registers it, e.g. as POST /v1/meetings/council).
func (s *Service) SetCouncilByEmail(ctx context.Context, in CouncilRequest) (*Council, error) {
	id := func(email string) (int64, error) {
		u, err := s.userByEmail(ctx, email)
		if err != nil {
			return 0, err
		}
		if u == nil {
			return 0, rocca.Localized(rocca.EINVALID, "conf.error.council_email_unknown", "no account for "+email, email)
		}
		return u.ID, nil
	}
	setup := CouncilSetup{Agenda: in.Agenda, Quorum: in.Quorum, Public: in.Public, RecordClosed: in.RecordClosed}
	var err error
	if setup.Chair, err = id(in.Chair); err != nil {
		return nil, err
	}
	if setup.Secretary, err = id(in.Secretary); err != nil {
		return nil, err
	}
	for _, st := range in.Seats {
		uid, err := id(st.Email)
		if err != nil {
			return nil, err
		}
		setup.Seats = append(setup.Seats, Seat{UserID: uid, Seat: st.Seat, CountsForQuorum: st.CountsForQuorum == nil || *st.CountsForQuorum})
	}
	return s.SetCouncil(ctx, in.Meeting, setup)
}
