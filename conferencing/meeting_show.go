package conferencing

import (
	"net/http"
	"time"

	"github.com/rocca-pa/rocca"
)

// roomPage is the data of the meeting page (client/pages/meeting.html).
type roomPage struct {
	ID           string
	Title        string
	StartsAt     time.Time
	DurationMin  int
	SignedIn     bool   // a user of the municipality: no name or passcode to type
	Name         string // the user's name
	NeedPasscode bool
	Locked       bool
	Script       string // versioned URLs of the client's files
	Style        string
	Relay        bool // ?relay=1: use TURN only (diagnostics, tests)
}

// meetingShow is GET /meetings/{id}: the join page, which becomes the meeting.
func (s *Service) meetingShow(w http.ResponseWriter, r *http.Request) {
	m, err := meetingByPublicID(r.Context(), s.db, r.PathValue("id"))
	if err != nil {
		s.pages.Error(w, r, err)
		return
	}
	u := rocca.UserFromContext(r.Context())
	signedIn := u != nil && u.ID > 0
	if m.Ended() && !(signedIn && s.isHost(m, u)) {
		s.pages.Render(w, r, http.StatusGone, "meeting_ended", m)
		return
	}
	p := roomPage{
		ID: m.PublicID, Title: m.Title, StartsAt: m.StartsAt, DurationMin: m.DurationMin,
		SignedIn: signedIn, NeedPasscode: m.Passcode != "" && !signedIn, Locked: m.Locked,
		Script: s.assets.url("meeting.js"), Style: s.assets.url("meeting.css"),
		Relay: r.URL.Query().Get("relay") == "1",
	}
	if signedIn {
		p.Name = u.Name
	}
	s.room.Render(w, r, http.StatusOK, "meeting", p)
}
