package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpusCase is one entry of testdata/corpus/expected.json. Pointer and slice fields that are
// absent are not checked.
type corpusCase struct {
	File                    string    `json:"file"`
	Outcome                 string    `json:"outcome"`
	Ticket                  int       `json:"ticket"`
	ThreadOf                string    `json:"thread_of"`
	TicketTag               *int      `json:"ticket_tag"`
	ThreadKeys              *[]string `json:"thread_keys"`
	Sender                  string    `json:"sender"`
	SenderName              string    `json:"sender_name"`
	ReplyTo                 []string  `json:"reply_to"`
	CleanSubject            string    `json:"clean_subject"`
	MessageID               string    `json:"message_id"`
	HasMessageID            *bool     `json:"has_message_id"`
	Attachments             *[]string `json:"attachments"`
	Inline                  []string  `json:"inline"`
	ContentIDs              []string  `json:"content_ids"`
	Warnings                *[]string `json:"warnings"`
	AutoReason              string    `json:"auto_reason"`
	Bounce                  *bool     `json:"bounce"`
	List                    *bool     `json:"list"`
	PECEnvelope             *bool     `json:"pec_envelope"`
	PECReceipt              *bool     `json:"pec_receipt"`
	PECKind                 string    `json:"pec_kind"`
	PECSender               string    `json:"pec_sender"`
	PECRef                  string    `json:"pec_ref"`
	PECEnvelopeID           string    `json:"pec_envelope_id"`
	Error                   string    `json:"error"`
	Forwarded               *int      `json:"forwarded"`
	ForwardedSubjects       []string  `json:"forwarded_subjects"`
	NestedForwardedSubjects []string  `json:"nested_forwarded_subjects"`
	TextContains            []string  `json:"text_contains"`
	TextExcludes            []string  `json:"text_excludes"`
	NewTextContains         []string  `json:"new_text_contains"`
	NewTextExcludes         []string  `json:"new_text_excludes"`
	HTMLContains            []string  `json:"html_contains"`
	HTMLExcludes            []string  `json:"html_excludes"`
}

type corpusManifest struct {
	About   string `json:"about"`
	Options struct {
		OwnAddresses []string `json:"own_addresses"`
		OwnDomain    string   `json:"own_domain"`
	} `json:"options"`
	Messages []corpusCase `json:"messages"`
}

func loadManifest(t testing.TB) corpusManifest {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var man corpusManifest
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&man); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	return man
}

func corpusOptions(man corpusManifest) Options {
	return Options{OwnAddresses: man.Options.OwnAddresses, OwnDomain: man.Options.OwnDomain}
}

// simulator plays the helpdesk's routing rules over parsed messages: quarantine on error, ignore
// automatic mail, join a ticket through ThreadKeys then the ticket tag, else open a new ticket.
type simulator struct {
	byID    map[string]int
	tickets map[int]bool
	next    int
}

func newSimulator() *simulator {
	return &simulator{byID: map[string]int{}, tickets: map[int]bool{}, next: 1}
}

func (s *simulator) route(m *Message, err error) (string, int) {
	switch {
	case err != nil:
		return "quarantine", 0
	case m.Auto.Auto:
		return "ignored", 0
	}
	for _, k := range ThreadKeys(m) {
		if n, ok := s.byID[k]; ok {
			s.byID[m.MessageID] = n
			return "reply", n
		}
	}
	if m.TicketTag > 0 && s.tickets[m.TicketTag] {
		s.byID[m.MessageID] = m.TicketTag
		return "reply", m.TicketTag
	}
	n := s.next
	s.next++
	s.tickets[n] = true
	s.byID[m.MessageID] = n
	return "ticket", n
}

// TestCorpus parses every corpus message, routes it like the helpdesk would and checks each
// against expected.json.
func TestCorpus(t *testing.T) {
	man := loadManifest(t)
	files, err := filepath.Glob("testdata/corpus/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("corpus has %d messages, want at least 40", len(files))
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	sort.Strings(names)
	var listed []string
	for _, c := range man.Messages {
		listed = append(listed, c.File)
	}
	if !slices.Equal(names, listed) {
		t.Fatalf("expected.json lists\n%v\nbut the corpus holds\n%v", listed, names)
	}
	opts := corpusOptions(man)
	sim := newSimulator()
	ticketOf := map[string]int{}
	outcomes := map[string]int{}
	for _, c := range man.Messages {
		raw, err := os.ReadFile(filepath.Join("testdata/corpus", c.File))
		if err != nil {
			t.Fatal(err)
		}
		m, perr := Parse(raw, opts)
		outcome, ticket := sim.route(m, perr)
		outcomes[outcome]++
		ticketOf[c.File] = ticket
		t.Run(c.File, func(t *testing.T) {
			if m == nil {
				t.Fatalf("Parse returned no message (err %v)", perr)
			}
			checkInvariants(t, m)
			if outcome != c.Outcome || ticket != c.Ticket {
				t.Errorf("routed to %s %d, want %s %d (err %v, auto %+v, keys %v, tag %d)",
					outcome, ticket, c.Outcome, c.Ticket, perr, m.Auto, ThreadKeys(m), m.TicketTag)
			}
			if c.ThreadOf != "" && ticketOf[c.ThreadOf] != c.Ticket {
				t.Errorf("thread_of %s has ticket %d, want %d", c.ThreadOf, ticketOf[c.ThreadOf], c.Ticket)
			}
			checkCase(t, c, m, perr)
		})
	}
	for _, o := range []string{"ticket", "reply", "quarantine", "ignored"} {
		if outcomes[o] == 0 {
			t.Errorf("no corpus message has outcome %s", o)
		}
	}
}

func checkCase(t *testing.T, c corpusCase, m *Message, err error) {
	t.Helper()
	if c.Error != "" {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Key != c.Error {
			t.Errorf("error = %v, want a *ParseError with key %s", err, c.Error)
		}
	}
	eq := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	if c.TicketTag != nil {
		eq("TicketTag", m.TicketTag, *c.TicketTag)
	}
	if c.ThreadKeys != nil && !slices.Equal(ThreadKeys(m), *c.ThreadKeys) && !(len(ThreadKeys(m)) == 0 && len(*c.ThreadKeys) == 0) {
		t.Errorf("ThreadKeys = %v, want %v", ThreadKeys(m), *c.ThreadKeys)
	}
	if c.Sender != "" {
		eq("From.Address", m.From.Address, c.Sender)
	}
	if c.SenderName != "" {
		eq("From.Name", m.From.Name, c.SenderName)
	}
	if c.ReplyTo != nil {
		var got []string
		for _, a := range m.ReplyTo {
			got = append(got, a.Address)
		}
		if !slices.Equal(got, c.ReplyTo) {
			t.Errorf("ReplyTo = %v, want %v", got, c.ReplyTo)
		}
	}
	if c.CleanSubject != "" {
		eq("CleanSubject", m.CleanSubject, c.CleanSubject)
	}
	if c.MessageID != "" {
		eq("MessageID", m.MessageID, c.MessageID)
	}
	if c.HasMessageID != nil {
		eq("HasMessageID", m.HasMessageID, *c.HasMessageID)
	}
	if c.Attachments != nil {
		var got []string
		for _, a := range m.Attachments {
			got = append(got, a.Filename)
		}
		if !slices.Equal(got, *c.Attachments) && !(len(got) == 0 && len(*c.Attachments) == 0) {
			t.Errorf("attachments = %q, want %q", got, *c.Attachments)
		}
	}
	if c.Inline != nil {
		var got []string
		for _, a := range m.Attachments {
			if a.Inline {
				got = append(got, a.Filename)
			}
		}
		if !slices.Equal(got, c.Inline) {
			t.Errorf("inline attachments = %q, want %q", got, c.Inline)
		}
	}
	if c.ContentIDs != nil {
		var got []string
		for _, a := range m.Attachments {
			if a.ContentID != "" {
				got = append(got, a.ContentID)
			}
		}
		if !slices.Equal(got, c.ContentIDs) {
			t.Errorf("content IDs = %q, want %q", got, c.ContentIDs)
		}
	}
	if c.Warnings != nil {
		got := slices.Clone(m.Warnings)
		want := slices.Clone(*c.Warnings)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("warnings = %q, want %q", got, want)
		}
	}
	if c.AutoReason != "" {
		eq("Auto.Reason", m.Auto.Reason, c.AutoReason)
	}
	if c.Bounce != nil {
		eq("Auto.Bounce", m.Auto.Bounce, *c.Bounce)
	}
	if c.List != nil {
		eq("Auto.List", m.Auto.List, *c.List)
	}
	if c.PECEnvelope != nil {
		eq("PEC.Envelope", m.PEC.Envelope, *c.PECEnvelope)
	}
	if c.PECReceipt != nil {
		eq("PEC.Receipt", m.PEC.Receipt, *c.PECReceipt)
	}
	if c.PECKind != "" {
		eq("PEC.Kind", m.PEC.Kind, c.PECKind)
	}
	if c.PECSender != "" {
		eq("PEC.Sender", m.PEC.Sender, c.PECSender)
	}
	if c.PECRef != "" {
		eq("PEC.RefMessageID", m.PEC.RefMessageID, c.PECRef)
	}
	if c.PECEnvelopeID != "" {
		eq("PEC.EnvelopeMessageID", m.PEC.EnvelopeMessageID, c.PECEnvelopeID)
	}
	if c.Forwarded != nil {
		eq("len(Forwarded)", len(m.Forwarded), *c.Forwarded)
	}
	for i, s := range c.ForwardedSubjects {
		if i >= len(m.Forwarded) || m.Forwarded[i].Subject != s {
			t.Errorf("forwarded[%d] subject: want %q", i, s)
		}
	}
	for i, s := range c.NestedForwardedSubjects {
		if len(m.Forwarded) == 0 || i >= len(m.Forwarded[0].Forwarded) || m.Forwarded[0].Forwarded[i].Subject != s {
			t.Errorf("forwarded[0].forwarded[%d] subject: want %q", i, s)
		}
	}
	containsAll := func(what, s string, want []string, yes bool) {
		t.Helper()
		for _, w := range want {
			if strings.Contains(s, w) != yes {
				t.Errorf("%s: contains %q = %v, want %v\n--- %s ---\n%s", what, w, !yes, yes, what, s)
			}
		}
	}
	containsAll("Text", m.Text, c.TextContains, true)
	containsAll("Text", m.Text, c.TextExcludes, false)
	containsAll("NewText", m.NewText, c.NewTextContains, true)
	containsAll("NewText", m.NewText, c.NewTextExcludes, false)
	containsAll("HTML", m.HTML, c.HTMLContains, true)
	containsAll("HTML", strings.ToLower(m.HTML), c.HTMLExcludes, false)
}

// checkInvariants holds for every message Parse returns, whatever the input.
func checkInvariants(t testing.TB, m *Message) {
	t.Helper()
	checkMessage(t, m, 0)
}

func checkMessage(t testing.TB, m *Message, depth int) {
	t.Helper()
	if depth > DefaultMaxDepth+1 {
		t.Fatalf("forwarded nesting %d beyond the depth limit", depth)
	}
	for what, s := range map[string]string{
		"MessageID": m.MessageID, "InReplyTo": m.InReplyTo, "Subject": m.Subject,
		"CleanSubject": m.CleanSubject, "Text": m.Text, "NewText": m.NewText, "HTML": m.HTML,
		"From": m.From.Address, "FromName": m.From.Name,
	} {
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8: %q", what, s)
		}
		if strings.IndexByte(s, 0) >= 0 {
			t.Errorf("%s holds a NUL byte", what)
		}
	}
	if m.MessageID == "" || strings.ContainsAny(m.MessageID, "<> \t\r\n") {
		t.Errorf("MessageID %q is empty or not normalised", m.MessageID)
	}
	if !m.HasMessageID && !strings.HasPrefix(m.MessageID, "sha256.") {
		t.Errorf("missing Message-ID not replaced by a hash: %q", m.MessageID)
	}
	if strings.TrimSpace(m.Text) != "" && strings.TrimSpace(m.NewText) == "" {
		t.Errorf("NewText empty while Text is %q", m.Text)
	}
	if strings.Contains(m.Text, "\r") {
		t.Errorf("Text keeps CR characters")
	}
	for _, a := range m.Attachments {
		if a.Filename == "" || strings.ContainsAny(a.Filename, "/\\\x00") {
			t.Errorf("bad attachment file name %q", a.Filename)
		}
		if a.Dropped {
			if a.Data != nil || a.SHA256 != "" {
				t.Errorf("dropped attachment %q keeps data", a.Filename)
			}
			continue
		}
		sum := sha256.Sum256(a.Data)
		if a.SHA256 != hex.EncodeToString(sum[:]) || a.Size != int64(len(a.Data)) {
			t.Errorf("attachment %q: size/hash do not match its data", a.Filename)
		}
	}
	seen := map[string]bool{}
	for _, w := range m.Warnings {
		if seen[w] || !strings.HasPrefix(w, "helpdesk.mailin.warn.") {
			t.Errorf("bad or repeated warning %q", w)
		}
		seen[w] = true
	}
	if m.PEC.Receipt && !m.Auto.Auto {
		t.Errorf("a PEC receipt must be automatic")
	}
	for _, f := range m.Forwarded {
		if f == nil {
			t.Fatalf("nil forwarded message")
		}
		checkMessage(t, f, depth+1)
	}
}
