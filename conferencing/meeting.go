package conferencing

import (
	"context"
	"database/sql"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rocca-pa/rocca"
)

// Limits on what staff type when creating a meeting.
const (
	maxTitle       = 200
	maxInvitees    = 300
	maxDurationMin = 24 * 60
	minPasscode    = 4
	maxPasscode    = 32
	maxName        = 60
)

// Meeting is a scheduled meeting with its join link.
type Meeting struct {
	ID          int64     `json:"-"`
	PublicID    string    `json:"id"`
	Title       string    `json:"title"`
	StartsAt    time.Time `json:"starts_at"`
	DurationMin int       `json:"duration_min"`
	Passcode    string    `json:"passcode,omitempty"`
	Locked      bool      `json:"locked"`
	Council     bool      `json:"council"`
	CreatedBy   int64     `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	Hosts       []int64   `json:"hosts"`
	Invitees    []Invitee `json:"invitees,omitempty"`
	Link        string    `json:"link"` // the join link to share
}

// Ended reports whether a host ended the meeting for everybody.
func (m *Meeting) Ended() bool { return !m.EndedAt.IsZero() }

// Invitee is a person invited by e-mail.
type Invitee struct {
	Email    string `json:"email"`
	Name     string `json:"name,omitempty"`
	UserID   int64  `json:"user_id,omitempty"`
	OutboxID int64  `json:"outbox_id,omitempty"` // the invitation in the mail outbox; 0 = not sent
	lang     string
}

// NewMeeting is what staff fill in (or `rocca meeting create` sends) to schedule a meeting.
type NewMeeting struct {
	Title       string    `json:"title"`
	StartsAt    time.Time `json:"starts_at,omitzero"` // zero: now
	DurationMin int       `json:"duration_min,omitempty"`
	// Invitees are e-mail addresses, optionally with a name ("Anna Rossi <anna@…>").
	Invitees []string `json:"invitees,omitempty"`
	// HostEmails are users who host besides the creator (e-mail addresses of accounts).
	HostEmails []string `json:"host_emails,omitempty"`
	Passcode   string   `json:"passcode,omitempty"`
	Locked     bool     `json:"locked,omitempty"`
	Council    bool     `json:"council,omitempty"`
}

// validate normalises n and reports the first problem as a user error.
func (n *NewMeeting) validate(now time.Time) ([]Invitee, error) {
	n.Title = strings.TrimSpace(n.Title)
	if n.Title == "" {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.title_required", "a title is required")
	}
	if utf8.RuneCountInString(n.Title) > maxTitle || hasControl(n.Title) {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.title_invalid", "title too long or with control characters", maxTitle)
	}
	if n.StartsAt.IsZero() {
		n.StartsAt = now
	}
	if n.DurationMin == 0 {
		n.DurationMin = 60
	}
	if n.DurationMin < 1 || n.DurationMin > maxDurationMin {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.duration_invalid", "duration out of range", maxDurationMin)
	}
	n.Passcode = strings.TrimSpace(n.Passcode)
	if n.Passcode != "" && (len(n.Passcode) < minPasscode || len(n.Passcode) > maxPasscode || hasControl(n.Passcode)) {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.passcode_invalid", "passcode length out of range", minPasscode, maxPasscode)
	}
	if len(n.Invitees) > maxInvitees {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.too_many_invitees", "too many invitees", maxInvitees)
	}
	var out []Invitee
	for _, raw := range n.Invitees {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		a, err := mail.ParseAddress(raw)
		if err != nil {
			return nil, rocca.Localized(rocca.EINVALID, "conf.error.invitee_invalid", "invalid invitee address "+raw, raw)
		}
		if slices.ContainsFunc(out, func(i Invitee) bool { return strings.EqualFold(i.Email, a.Address) }) {
			continue
		}
		out = append(out, Invitee{Email: a.Address, Name: a.Name})
	}
	return out, nil
}

// validName checks a display name typed by a guest.
func validName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "", rocca.Localized(rocca.EINVALID, "conf.error.name_required", "a name is required")
	}
	if utf8.RuneCountInString(name) > maxName || hasControl(name) {
		return "", rocca.Localized(rocca.EINVALID, "conf.error.name_invalid", "name too long", maxName)
	}
	return name, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError })
}

// CreateMeeting schedules a meeting created by u (who becomes its host, unless u is the CLI),
// records its invitees and queues their invitations in the same transaction.
func (s *Service) CreateMeeting(ctx context.Context, u *rocca.User, n NewMeeting) (*Meeting, error) {
	now := s.now()
	invitees, err := n.validate(now)
	if err != nil {
		return nil, err
	}
	m := &Meeting{
		PublicID: randomID(16), Title: n.Title, StartsAt: n.StartsAt.Truncate(time.Second), DurationMin: n.DurationMin,
		Passcode: n.Passcode, Locked: n.Locked, Council: n.Council, CreatedAt: now.Truncate(time.Second),
	}
	if u != nil && u.ID > 0 {
		m.CreatedBy = u.ID
		m.Hosts = append(m.Hosts, u.ID)
	}
	for _, e := range n.HostEmails {
		h, err := s.userByEmail(ctx, e)
		if err != nil {
			return nil, err
		}
		if h == nil {
			return nil, rocca.Localized(rocca.EINVALID, "conf.error.host_unknown", "no account for host "+e, e)
		}
		if !slices.Contains(m.Hosts, h.ID) {
			m.Hosts = append(m.Hosts, h.ID)
		}
	}
	for i := range invitees {
		if iu, err := s.userByEmail(ctx, invitees[i].Email); err != nil {
			return nil, err
		} else if iu != nil {
			invitees[i].UserID, invitees[i].lang = iu.ID, iu.Language
			if invitees[i].Name == "" {
				invitees[i].Name = iu.Name
			}
		}
	}
	m.Invitees = invitees
	m.Link = s.joinLink(m.PublicID)
	var queued bool
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if err := insertMeeting(ctx, tx, m); err != nil {
			return err
		}
		for i := range m.Invitees {
			id, err := s.queueInvitation(ctx, tx, m, &m.Invitees[i])
			if err != nil {
				return err
			}
			m.Invitees[i].OutboxID = id
			queued = queued || id > 0
			if err := insertInvitee(ctx, tx, m.ID, &m.Invitees[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create meeting: %w", err)
	}
	if queued {
		s.mailer.Wake()
	}
	s.log.Info("meeting created", "meeting", m.PublicID, "invitees", len(m.Invitees), "hosts", len(m.Hosts))
	return m, nil
}

// userByEmail finds an account, or nil when there is none (or no directory).
func (s *Service) userByEmail(ctx context.Context, email string) (*rocca.User, error) {
	if s.users == nil {
		return nil, nil
	}
	u, err := s.users.UserByEmail(ctx, strings.TrimSpace(email))
	if rocca.ErrorCodeOf(err) == rocca.ENOTFOUND || (err == nil && u == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", email, err)
	}
	return u, nil
}

// MeetingFilter selects meetings for Meetings.
type MeetingFilter struct {
	// UserID and Email restrict the list to meetings the user created, hosts or is invited to;
	// both zero lists every meeting (admins, the CLI).
	UserID int64
	Email  string
	// Since hides meetings that ended, or started more than a day, before it; zero shows all.
	Since time.Time
	Limit int // default 200
}

// Meetings lists meetings by start time, newest first.
func (s *Service) Meetings(ctx context.Context, f MeetingFilter) ([]*Meeting, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	ms, err := listMeetings(ctx, s.db, f)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		m.Link = s.joinLink(m.PublicID)
	}
	return ms, nil
}

// Meeting returns the meeting with this public id, with its hosts and invitees.
func (s *Service) Meeting(ctx context.Context, publicID string) (*Meeting, error) {
	m, err := meetingByPublicID(ctx, s.db, publicID)
	if err != nil {
		return nil, err
	}
	if m.Invitees, err = inviteesOf(ctx, s.db, m.ID); err != nil {
		return nil, err
	}
	m.Link = s.joinLink(m.PublicID)
	return m, nil
}

// joinLink is the address to share for meeting id.
func (s *Service) joinLink(id string) string {
	return strings.TrimSuffix(s.cfg.PublicURL, "/") + "/meetings/" + id
}
