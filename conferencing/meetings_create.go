package conferencing

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// meetingsCreate is POST /meetings: staff schedule a meeting; invitations leave through the outbox.
func (s *Service) meetingsCreate(w http.ResponseWriter, r *http.Request) {
	form := meetingForm{
		Title: r.PostFormValue("title"), Start: r.PostFormValue("start"), Duration: r.PostFormValue("duration"),
		Invitees: r.PostFormValue("invitees"), Passcode: r.PostFormValue("passcode"),
		Locked: r.PostFormValue("locked") != "", Council: r.PostFormValue("council") != "",
	}
	n, err := form.meeting()
	if err == nil {
		var m *Meeting
		if m, err = s.CreateMeeting(r.Context(), rocca.UserFromContext(r.Context()), n); err == nil {
			http.Redirect(w, r, "/meetings?created="+url.QueryEscape(m.PublicID), http.StatusSeeOther)
			return
		}
	}
	code := rocca.ErrorCodeOf(err)
	if code == rocca.EINTERNAL {
		s.pages.Error(w, r, err)
		return
	}
	s.renderList(w, r, web.StatusOf(code), listPage{Form: form, Error: s.message(r, err)})
}

// meeting turns the form into a NewMeeting; the start is local time (datetime-local input).
func (f meetingForm) meeting() (NewMeeting, error) {
	n := NewMeeting{Title: f.Title, Passcode: f.Passcode, Locked: f.Locked, Council: f.Council,
		Invitees: strings.FieldsFunc(f.Invitees, func(r rune) bool { return r == '\n' || r == ',' || r == ';' })}
	if f.Start != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", f.Start, time.Local)
		if err != nil {
			return n, rocca.Localized(rocca.EINVALID, "conf.error.start_invalid", "start time not understood")
		}
		n.StartsAt = t
	}
	if f.Duration != "" {
		d, err := strconv.Atoi(strings.TrimSpace(f.Duration))
		if err != nil || d <= 0 {
			return n, rocca.Localized(rocca.EINVALID, "conf.error.duration_invalid", "duration out of range", maxDurationMin)
		}
		n.DurationMin = d
	}
	return n, nil
}

// message is err as a sentence in the request's language.
func (s *Service) message(r *http.Request, err error) string {
	var e *rocca.Error
	if errors.As(err, &e) && e.Key != "" {
		return s.cat.T(web.Lang(r), e.Key, e.Args...)
	}
	return s.cat.T(web.Lang(r), "conf.error.internal")
}
