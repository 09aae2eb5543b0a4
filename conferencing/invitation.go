package conferencing

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	roccamail "github.com/rocca-pa/rocca/internal/mail"
)

// queueInvitation writes the invitation to inv and queues it in the outbox within tx. It returns
// the outbox id, or 0 when invitations are off (no sender address configured).
func (s *Service) queueInvitation(ctx context.Context, tx *sql.Tx, m *Meeting, inv *Invitee) (int64, error) {
	if s.cfg.MailFrom == "" {
		return 0, nil
	}
	from, err := mail.ParseAddress(s.cfg.MailFrom)
	if err != nil {
		return 0, fmt.Errorf("invitation sender: %w", err)
	}
	raw, err := s.invitation(m, inv, *from)
	if err != nil {
		return 0, err
	}
	id, err := s.mailer.EnqueueTx(ctx, tx, roccamail.Envelope{From: from.Address, To: []string{inv.Email}}, raw)
	if err != nil {
		return 0, fmt.Errorf("queue invitation to %s: %w", inv.Email, err)
	}
	return id, nil
}

// invitation composes the e-mail for one invitee: a text in their language and the same event as
// a calendar request (text/calendar; method=REQUEST) that mail clients offer to add.
func (s *Service) invitation(m *Meeting, inv *Invitee, from mail.Address) ([]byte, error) {
	lang := inv.lang
	if lang == "" {
		lang = s.cfg.Language
	}
	org := s.cfg.Municipality
	if org == "" {
		org = s.cat.T(lang, "app.name")
	}
	start := m.StartsAt.Local().Format("02/01/2006 15:04")
	if lang == "en" {
		start = m.StartsAt.Local().Format("2 Jan 2006 15:04")
	}
	var text strings.Builder
	text.WriteString(s.cat.T(lang, "conf.invite.greeting", inv.Name) + "\n\n")
	text.WriteString(s.cat.T(lang, "conf.invite.body", org, m.Title, start, m.DurationMin) + "\n\n")
	text.WriteString(s.cat.T(lang, "conf.invite.link", m.Link) + "\n")
	if m.Passcode != "" {
		text.WriteString(s.cat.T(lang, "conf.invite.passcode", m.Passcode) + "\n")
	}
	text.WriteString("\n" + s.cat.T(lang, "conf.invite.howto") + "\n")
	cal, err := s.calendar(m, inv, from, lang)
	if err != nil {
		return nil, err
	}
	msg := roccamail.Message{
		From:         from,
		To:           []mail.Address{{Name: inv.Name, Address: inv.Email}},
		Subject:      s.cat.T(lang, "conf.invite.subject", m.Title, start),
		Text:         text.String(),
		Alternatives: []roccamail.Part{{ContentType: "text/calendar; method=REQUEST; charset=utf-8", Body: cal}},
		Attachments:  []roccamail.Attachment{{Filename: "invito.ics", ContentType: "application/ics", Data: cal}},
		Headers:      map[string]string{"Auto-Submitted": "auto-generated"},
	}
	raw, _, err := msg.Bytes(s.now(), "")
	if err != nil {
		return nil, fmt.Errorf("compose invitation: %w", err)
	}
	return raw, nil
}

// calendar is the meeting as an iCalendar REQUEST: one event, UTC times, the join link as
// location and URL, the sender as organiser and the invitee as attendee.
func (s *Service) calendar(m *Meeting, inv *Invitee, from mail.Address, lang string) ([]byte, error) {
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, m.PublicID+"@rocca")
	ev.Props.SetDateTime(ical.PropDateTimeStamp, s.now().UTC())
	ev.Props.SetDateTime(ical.PropDateTimeStart, m.StartsAt.UTC())
	ev.Props.SetDateTime(ical.PropDateTimeEnd, m.StartsAt.Add(time.Duration(m.DurationMin)*time.Minute).UTC())
	ev.Props.SetText(ical.PropSummary, m.Title)
	ev.Props.SetText(ical.PropLocation, m.Link)
	desc := s.cat.T(lang, "conf.invite.link", m.Link)
	if m.Passcode != "" {
		desc += "\n" + s.cat.T(lang, "conf.invite.passcode", m.Passcode)
	}
	ev.Props.SetText(ical.PropDescription, desc)
	if u, err := url.Parse(m.Link); err == nil && u.IsAbs() {
		ev.Props.SetURI(ical.PropURL, u)
	}
	seq := ical.NewProp(ical.PropSequence)
	seq.Value = "0"
	ev.Props.Set(seq)
	ev.SetStatus(ical.EventConfirmed)
	org := ical.NewProp(ical.PropOrganizer)
	org.Value = "mailto:" + from.Address
	if from.Name != "" {
		org.Params.Set(ical.ParamCommonName, from.Name)
	}
	ev.Props.Set(org)
	att := ical.NewProp(ical.PropAttendee)
	att.Value = "mailto:" + inv.Email
	if inv.Name != "" {
		att.Params.Set(ical.ParamCommonName, inv.Name)
	}
	att.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
	att.Params.Set(ical.ParamParticipationStatus, "NEEDS-ACTION")
	att.Params.Set(ical.ParamRSVP, "TRUE")
	ev.Props.Set(att)

	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Rocca//Meetings//IT")
	cal.Props.SetText(ical.PropMethod, "REQUEST")
	cal.Children = append(cal.Children, ev.Component)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("encode calendar: %w", err)
	}
	return buf.Bytes(), nil
}
