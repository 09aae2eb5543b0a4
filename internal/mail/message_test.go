package mail

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	netmail "net/mail"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

var testNow = time.Date(2026, 3, 2, 10, 15, 0, 0, time.FixedZone("CET", 3600))

func messageIDOf(t testing.TB, raw []byte) string {
	t.Helper()
	th, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	h := gomail.Header{Header: message.Header{Header: th}}
	id, err := h.MessageID()
	if err != nil {
		t.Fatalf("Message-ID: %v", err)
	}
	return id
}

type parsedPart struct {
	ContentType string
	Params      map[string]string
	Filename    string
	Attachment  bool
	Body        []byte
}

func parseMessage(t testing.TB, raw []byte) (gomail.Header, []parsedPart) {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	var parts []parsedPart
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		pp := parsedPart{Body: body}
		switch h := p.Header.(type) {
		case *gomail.InlineHeader:
			pp.ContentType, pp.Params, _ = h.ContentType()
		case *gomail.AttachmentHeader:
			pp.ContentType, pp.Params, _ = h.ContentType()
			pp.Filename, _ = h.Filename()
			pp.Attachment = true
		}
		parts = append(parts, pp)
	}
	return r.Header, parts
}

func lf(b []byte) string { return strings.ReplaceAll(string(b), "\r\n", "\n") }

func TestMessageBytesRoundTrip(t *testing.T) {
	pdf := []byte("%PDF-1.4\x00\x01\x02\xff binary \r\n data")
	m := Message{
		From:       netmail.Address{Name: "Ufficio Tecnico — Comune di Sant'Agata", Address: "helpdesk@comune.example.it"},
		To:         []netmail.Address{{Name: "Nicolò Rossi", Address: "nicolo.rossi@comune.example.it"}, {Address: "anna@comune.example.it"}},
		Cc:         []netmail.Address{{Name: "Segreteria", Address: "segreteria@comune.example.it"}},
		ReplyTo:    []netmail.Address{{Address: "helpdesk+42@comune.example.it"}},
		Subject:    "Re: [#42] La stampante è già guasta — perché? Non si può più stampare il verbale della giunta di lunedì",
		Text:       "Buongiorno,\nla richiesta è stata presa in carico.\n.\nUna riga molto lunga " + strings.Repeat("àèìòù ", 40) + "\nCordiali saluti",
		HTML:       "<p>Buongiorno,<br>la richiesta è stata <b>presa in carico</b>.</p>",
		InReplyTo:  "<orig.1@comune.example.it>",
		References: []string{"root.0@comune.example.it", "orig.1@comune.example.it"},
		Headers:    map[string]string{"Auto-Submitted": "auto-replied", "X-Rocca-Ticket": "42"},
		Attachments: []Attachment{
			{Filename: "verbale è 2026.pdf", ContentType: "application/pdf", Data: pdf},
		},
	}
	raw, id, err := m.Bytes(testNow, "comune.example.it")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "rocca.") || !strings.HasSuffix(id, "@comune.example.it") {
		t.Errorf("generated Message-ID = %q", id)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long", i, len(line))
		}
	}
	for i, b := range raw {
		if b >= 0x80 {
			t.Fatalf("byte %d of the message is not 7-bit (%q…): headers and bodies must be encoded", i, raw[max(0, i-20):i+1])
		}
	}
	if !bytes.Contains(raw, []byte("Content-Transfer-Encoding: quoted-printable")) {
		t.Error("texts are not quoted-printable")
	}

	h, parts := parseMessage(t, raw)
	if got, _ := h.Subject(); got != m.Subject {
		t.Errorf("Subject = %q, want %q", got, m.Subject)
	}
	from, _ := h.AddressList("From")
	if len(from) != 1 || from[0].Name != m.From.Name || from[0].Address != m.From.Address {
		t.Errorf("From = %v", from)
	}
	to, _ := h.AddressList("To")
	if len(to) != 2 || to[0].Name != "Nicolò Rossi" || to[1].Address != "anna@comune.example.it" {
		t.Errorf("To = %v", to)
	}
	cc, _ := h.AddressList("Cc")
	replyTo, _ := h.AddressList("Reply-To")
	if len(cc) != 1 || len(replyTo) != 1 || replyTo[0].Address != "helpdesk+42@comune.example.it" {
		t.Errorf("Cc = %v, Reply-To = %v", cc, replyTo)
	}
	if got, _ := h.MessageID(); got != id {
		t.Errorf("Message-ID = %q, want %q", got, id)
	}
	if got, _ := h.MsgIDList("In-Reply-To"); !slices.Equal(got, []string{"orig.1@comune.example.it"}) {
		t.Errorf("In-Reply-To = %v", got)
	}
	if got, _ := h.MsgIDList("References"); !slices.Equal(got, m.References) {
		t.Errorf("References = %v", got)
	}
	if got, _ := h.Date(); !got.Equal(testNow) {
		t.Errorf("Date = %v, want %v", got, testNow)
	}
	if h.Get("Auto-Submitted") != "auto-replied" || h.Get("X-Rocca-Ticket") != "42" {
		t.Errorf("extra headers lost: %q %q", h.Get("Auto-Submitted"), h.Get("X-Rocca-Ticket"))
	}
	if ct, _, _ := h.ContentType(); ct != "multipart/mixed" {
		t.Errorf("top Content-Type = %q, want multipart/mixed", ct)
	}
	if len(parts) != 3 {
		t.Fatalf("got %d parts, want text, html, attachment", len(parts))
	}
	if parts[0].ContentType != "text/plain" || lf(parts[0].Body) != m.Text {
		t.Errorf("text part = %s %q", parts[0].ContentType, parts[0].Body)
	}
	if parts[1].ContentType != "text/html" || lf(parts[1].Body) != m.HTML {
		t.Errorf("html part = %s %q", parts[1].ContentType, parts[1].Body)
	}
	a := parts[2]
	if !a.Attachment || a.Filename != "verbale è 2026.pdf" || a.ContentType != "application/pdf" || !bytes.Equal(a.Body, pdf) {
		t.Errorf("attachment = %+v", a)
	}
	// The two renderings are alternatives of each other, inside the mixed message.
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.MultipartReader().NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if ct, _, _ := first.Header.ContentType(); ct != "multipart/alternative" {
		t.Errorf("first part of the mixed message is %q, want multipart/alternative", ct)
	}
}

func TestMessageBytesTextOnly(t *testing.T) {
	m := Message{
		From:    netmail.Address{Address: "helpdesk@comune.example.it"},
		To:      []netmail.Address{{Address: "anna@comune.example.it"}},
		Subject: "Prova",
		Text:    "Solo testo, città.\n",
	}
	raw, id, err := m.Bytes(testNow, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(id, "@comune.example.it") {
		t.Errorf("Message-ID %q does not take the From domain", id)
	}
	h, parts := parseMessage(t, raw)
	ct, params, _ := h.ContentType()
	if ct != "text/plain" || params["charset"] != "utf-8" {
		t.Errorf("Content-Type = %q %v, want a single text/plain; charset=utf-8", ct, params)
	}
	if len(parts) != 1 || lf(parts[0].Body) != m.Text {
		t.Errorf("parts = %+v", parts)
	}
	_, id2, _ := m.Bytes(testNow, "")
	if id == id2 {
		t.Error("two messages got the same Message-ID")
	}
	m.MessageID = "<fixed.1@comune.example.it>"
	raw, id, _ = m.Bytes(testNow, "")
	if id != "fixed.1@comune.example.it" || messageIDOf(t, raw) != id {
		t.Errorf("given Message-ID not kept: %q", id)
	}
}

func TestMessageCalendarAlternative(t *testing.T) {
	ics := "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
	m := Message{
		From:         netmail.Address{Address: "rocca@comune.example.it"},
		To:           []netmail.Address{{Address: "anna@comune.example.it"}},
		Subject:      "Invito: Consiglio comunale",
		Text:         "Sei invitata.",
		Alternatives: []Part{{ContentType: "text/calendar; method=REQUEST; charset=utf-8", Body: []byte(ics)}},
	}
	raw, _, err := m.Bytes(testNow, "")
	if err != nil {
		t.Fatal(err)
	}
	h, parts := parseMessage(t, raw)
	if ct, _, _ := h.ContentType(); ct != "multipart/alternative" {
		t.Errorf("Content-Type = %q", ct)
	}
	if len(parts) != 2 || parts[1].ContentType != "text/calendar" || parts[1].Params["method"] != "REQUEST" || string(parts[1].Body) != ics {
		t.Errorf("parts = %+v", parts)
	}
}

func TestMessageBytesRefusesHeaderInjection(t *testing.T) {
	base := Message{
		From: netmail.Address{Address: "helpdesk@comune.example.it"},
		To:   []netmail.Address{{Address: "anna@comune.example.it"}},
		Text: "x",
	}
	for name, m := range map[string]func(*Message){
		"reserved header":   func(m *Message) { m.Headers = map[string]string{"bcc": "evil@example.org"} },
		"bad field name":    func(m *Message) { m.Headers = map[string]string{"X-A\r\nBcc": "evil@example.org"} },
		"bad message id":    func(m *Message) { m.MessageID = "a b@c" },
		"bad in-reply-to":   func(m *Message) { m.InReplyTo = "x@y>\r\nBcc: evil@example.org" },
		"no from":           func(m *Message) { m.From = netmail.Address{} },
		"bad content type":  func(m *Message) { m.Alternatives = []Part{{ContentType: "text/calendar; ==", Body: nil}} },
		"bad attachment ct": func(m *Message) { m.Attachments = []Attachment{{Filename: "a", ContentType: "a/b; x", Data: nil}} },
	} {
		m2 := base
		m(&m2)
		if _, _, err := m2.Bytes(testNow, ""); err == nil {
			t.Errorf("%s: Bytes succeeded", name)
		}
	}
	// Line breaks in the subject or a header value (they may come from an incoming e-mail) become
	// spaces, so they cannot add header fields.
	m := base
	m.Subject = "Ciao\r\nBcc: evil@example.org"
	m.Headers = map[string]string{"X-Note": "a\nBcc: evil@example.org"}
	raw, _, err := m.Bytes(testNow, "")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := parseMessage(t, raw)
	if h.Has("Bcc") {
		t.Errorf("a line break in the subject added a header:\n%s", raw)
	}
	if got, _ := h.Subject(); got != "Ciao  Bcc: evil@example.org" {
		t.Errorf("Subject = %q", got)
	}
}

func FuzzMessageBytes(f *testing.F) {
	f.Add("Re: richiesta già inviata", "Testo\ncon righe\n.\n", "<p>ciao</p>", "allegato è.pdf")
	f.Add("=?utf-8?q?x?=", "", "", "")
	f.Add("\r\n\t", "\x00\xff", "", "a\"b;c.txt")
	f.Fuzz(func(t *testing.T, subject, text, html, filename string) {
		m := Message{
			From:    netmail.Address{Name: subject, Address: "helpdesk@comune.example.it"},
			To:      []netmail.Address{{Address: "anna@comune.example.it"}},
			Subject: subject,
			Text:    text,
			HTML:    html,
		}
		if filename != "" {
			m.Attachments = []Attachment{{Filename: filename, Data: []byte(text)}}
		}
		raw, id, err := m.Bytes(testNow, "comune.example.it")
		if err != nil {
			t.Fatalf("Bytes: %v", err)
		}
		h, parts := parseMessage(t, raw)
		if got, _ := h.MessageID(); got != id {
			t.Fatalf("Message-ID %q, want %q", got, id)
		}
		if h.Has("Bcc") {
			t.Fatal("input added a Bcc header")
		}
		want := strings.TrimSpace(oneLine(subject))
		if got, _ := h.Subject(); utf8.ValidString(subject) && !strings.Contains(subject, "=?") &&
			strings.TrimSpace(got) != want && !foldedEqual(got, want) {
			t.Fatalf("Subject = %q, want %q", got, want)
		}
		if len(parts) == 0 {
			t.Fatal("no parts")
		}
		if filename != "" {
			a := parts[len(parts)-1]
			if !a.Attachment || a.Body == nil && text != "" || !bytes.Equal(a.Body, []byte(text)) {
				t.Fatalf("attachment body changed: %q", a.Body)
			}
		}
	})
}

// foldedEqual compares header texts ignoring runs of white space, which folding may change.
func foldedEqual(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}
