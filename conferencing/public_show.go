package conferencing

import (
	"errors"
	"net/http"
	"time"

	"github.com/rocca-pa/rocca"
)

// publicPage is the data of the public stream page (client/pages/public.html). It holds the
// stream id and nothing that would let a visitor join the meeting.
type publicPage struct {
	Stream   string
	Title    string
	StartsAt time.Time
	State    string // live, not_live, closed, full, ended, unavailable: what the page says first
	Cap      int    // the viewer cap, for the "full" message
	Script   string
	Style    string
	Relay    bool // ?relay=1: use TURN only (diagnostics, tests)
}

// show is GET /pubblico/{stream}: the page where citizens watch and listen. Its script takes the
// state from here and keeps it current by itself.
func (p *publicSite) show(w http.ResponseWriter, r *http.Request) {
	s := p.s
	m, err := meetingByStream(r.Context(), s.db, r.PathValue("stream"))
	if err != nil {
		s.pages.Error(w, r, err)
		return
	}
	data := publicPage{
		Stream: r.PathValue("stream"), Title: m.Title, StartsAt: m.StartsAt, State: "live", Cap: s.cfg.PublicViewers,
		Script: s.assets.url("public.js"), Style: s.assets.url("public.css"),
		Relay: r.URL.Query().Get("relay") == "1",
	}
	if err := s.publicStatus(m); err != nil {
		data.State = streamState(err)
	}
	s.room.Render(w, r, http.StatusOK, "public", data)
}

// streamState names the state of a refusal from publicStatus.
func streamState(err error) string {
	var e *rocca.Error
	if rocca.ErrorCodeOf(err) == rocca.EUNAVAILABLE || !errors.As(err, &e) {
		return "unavailable"
	}
	switch e.Key {
	case "conf.error.public_closed":
		return "closed"
	case "conf.error.public_full":
		return "full"
	case "conf.error.public_ended":
		return "ended"
	}
	return "not_live"
}
