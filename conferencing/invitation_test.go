package conferencing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	gomail "github.com/emersion/go-message/mail"

	"github.com/rocca-pa/rocca"
)

// parsedMail is an invitation taken apart: its subject, text and calendar.
type parsedMail struct {
	subject, text string
	cal           *ical.Calendar
	attachments   []string
}

func parseMail(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out parsedMail
	out.subject, _ = r.Header.Subject()
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(part.Body)
		switch h := part.Header.(type) {
		case *gomail.InlineHeader:
			ct, params, _ := h.ContentType()
			switch ct {
			case "text/plain":
				out.text = string(body)
			case "text/calendar":
				if params["method"] != "REQUEST" {
					t.Errorf("calendar part method %q", params["method"])
				}
				if out.cal, err = ical.NewDecoder(bytes.NewReader(body)).Decode(); err != nil {
					t.Fatalf("calendar part: %v\n%s", err, body)
				}
			}
		case *gomail.AttachmentHeader:
			name, _ := h.Filename()
			out.attachments = append(out.attachments, name)
		}
	}
	return out
}

// Creating a meeting with invitees queues one e-mail each, in the invitee's language (Carla's
// account says English; an outside address gets the municipality's Italian), with the join link,
// the passcode, and a calendar REQUEST that calendar software reads.
func TestCreateMeetingSendsInvitations(t *testing.T) {
	e := newEnv(t)
	start := time.Date(2026, 12, 3, 15, 30, 0, 0, time.UTC)
	m, err := e.svc.CreateMeeting(context.Background(), testUsers[1], NewMeeting{
		Title: "Giunta comunale", StartsAt: start, DurationMin: 90, Passcode: "4711",
		Invitees:   []string{"carla@comune.test", "Mario Esterni <mario@esterno.example>", "carla@comune.test", ""},
		HostEmails: []string{"bruno@comune.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Hosts) != 2 || m.Hosts[0] != 1 || m.Hosts[1] != 2 {
		t.Errorf("hosts %v, want anna and bruno", m.Hosts)
	}
	if !strings.HasPrefix(m.Link, e.base+"/meetings/") || len(m.PublicID) < 26 {
		t.Errorf("link %q", m.Link)
	}
	e.mailer.mu.Lock()
	sent, to, woken := e.mailer.sent, e.mailer.to, e.mailer.woken
	e.mailer.mu.Unlock()
	if len(sent) != 2 || woken != 1 {
		t.Fatalf("%d invitations queued (outbox woken %d times), want 2 and 1", len(sent), woken)
	}
	want := []struct{ to, subject, text, attendee string }{
		{"carla@comune.test", "Invitation: Giunta comunale", "invites you to the video meeting", "mailto:carla@comune.test"},
		{"mario@esterno.example", "Invito: Giunta comunale", "ti invita alla riunione video", "mailto:mario@esterno.example"},
	}
	for i, w := range want {
		if len(to[i]) != 1 || to[i][0] != w.to {
			t.Errorf("invitation %d to %v, want %s", i, to[i], w.to)
		}
		p := parseMail(t, sent[i])
		if !strings.HasPrefix(p.subject, w.subject) || !strings.Contains(p.text, w.text) ||
			!strings.Contains(p.text, m.Link) || !strings.Contains(p.text, "4711") {
			t.Errorf("invitation %d: subject %q text:\n%s", i, p.subject, p.text)
		}
		if len(p.attachments) != 1 || !strings.HasSuffix(p.attachments[0], ".ics") {
			t.Errorf("invitation %d attachments %v", i, p.attachments)
		}
		if p.cal == nil || len(p.cal.Events()) != 1 {
			t.Fatalf("invitation %d: no calendar event", i)
		}
		ev := p.cal.Events()[0]
		summary, _ := ev.Props.Text(ical.PropSummary)
		begin, _ := ev.DateTimeStart(time.UTC)
		end, _ := ev.DateTimeEnd(time.UTC)
		loc, _ := ev.Props.Text(ical.PropLocation)
		uid, _ := ev.Props.Text(ical.PropUID)
		if summary != "Giunta comunale" || !begin.Equal(start) || end.Sub(begin) != 90*time.Minute || loc != m.Link ||
			uid != m.PublicID+"@rocca" || ev.Props.Get(ical.PropAttendee).Value != w.attendee {
			t.Errorf("invitation %d event: %q %v-%v %q %q %q", i, summary, begin, end, loc, uid, ev.Props.Get(ical.PropAttendee).Value)
		}
	}
	got, err := e.svc.Meeting(context.Background(), m.PublicID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Invitees) != 2 || got.Invitees[0].UserID != 3 || got.Invitees[0].OutboxID == 0 || got.Invitees[1].UserID != 0 {
		t.Errorf("invitees stored as %+v", got.Invitees)
	}

	// Who sees it in their list: creator, other host, invitee; not an uninvolved user; admins all.
	for _, c := range []struct {
		f    MeetingFilter
		want int
	}{
		{MeetingFilter{UserID: 1, Email: "anna@comune.test"}, 1},
		{MeetingFilter{UserID: 2, Email: "bruno@comune.test"}, 1},
		{MeetingFilter{UserID: 3, Email: "carla@comune.test"}, 1},
		{MeetingFilter{UserID: 4, Email: "admin@comune.test"}, 0},
		{MeetingFilter{}, 1},
		{MeetingFilter{Since: start.Add(48 * time.Hour)}, 0},
	} {
		if ms, err := e.svc.Meetings(context.Background(), c.f); err != nil || len(ms) != c.want {
			t.Errorf("filter %+v: %d meetings (%v), want %d", c.f, len(ms), err, c.want)
		}
	}
}

func TestCreateMeetingRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	cases := map[string]struct {
		n   NewMeeting
		key string
	}{
		"no title":       {NewMeeting{Title: "  "}, "conf.error.title_required"},
		"long title":     {NewMeeting{Title: strings.Repeat("x", 201)}, "conf.error.title_invalid"},
		"bad address":    {NewMeeting{Title: "T", Invitees: []string{"not an address"}}, "conf.error.invitee_invalid"},
		"short passcode": {NewMeeting{Title: "T", Passcode: "12"}, "conf.error.passcode_invalid"},
		"long meeting":   {NewMeeting{Title: "T", DurationMin: 5000}, "conf.error.duration_invalid"},
		"unknown host":   {NewMeeting{Title: "T", HostEmails: []string{"nobody@comune.test"}}, "conf.error.host_unknown"},
	}
	for name, c := range cases {
		_, err := e.svc.CreateMeeting(context.Background(), testUsers[1], c.n)
		var re *rocca.Error
		if !errorAs(err, &re) || re.Key != c.key || re.Code != rocca.EINVALID {
			t.Errorf("%s: %v, want %s", name, err, c.key)
		}
	}
}

// The admin socket operations behind `rocca meeting create|list` speak JSON.
func TestAdminRoutes(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	e.svc.AdminRoutes(mux, e.log)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	body := `{"title":"Consiglio comunale","starts_at":"2030-01-15T18:00:00+01:00","council":true}`
	res, err := http.Post(srv.URL+"/v1/meetings", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var m Meeting
	json.NewDecoder(res.Body).Decode(&m)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !m.Council || m.Link != e.base+"/meetings/"+m.PublicID || len(m.Hosts) != 0 {
		t.Fatalf("create: %d %+v", res.StatusCode, m)
	}
	res, err = http.Post(srv.URL+"/v1/meetings", "application/json", strings.NewReader(`{"title":""}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "conf.error.title_required") {
		t.Errorf("bad create: %d %s", res.StatusCode, b)
	}
	for _, req := range []*http.Request{
		mustRequest(http.MethodGet, srv.URL+"/v1/meetings", `{"all":true}`),
		mustRequest(http.MethodGet, srv.URL+"/v1/meetings?all=1&limit=5", ""),
		mustRequest(http.MethodGet, srv.URL+"/v1/meetings", ""),
	} {
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list []Meeting
		json.NewDecoder(res.Body).Decode(&list)
		res.Body.Close()
		if len(list) != 1 || list[0].Title != "Consiglio comunale" {
			t.Errorf("%s: list %+v", req.URL, list)
		}
	}

	// A meeting nobody hosts is run by the staff who join it.
	jr, status, body2 := e.joinHTTP(&m, 2, JoinRequest{})
	if jr == nil || jr.Role != RoleHost {
		t.Errorf("staff joining a hostless meeting: %d %s", status, body2)
	}
	if jr, _, _ := e.joinHTTP(&m, 3, JoinRequest{}); jr == nil || jr.Role != RoleMember {
		t.Errorf("councillor joining a hostless meeting: %+v", jr)
	}
}

func errorAs(err error, target **rocca.Error) bool { return errors.As(err, target) }

func mustRequest(method, url, body string) *http.Request {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	return req
}
