package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

// TestIngestCorpus hands every corpus message to Ingest in name order, on a fresh database, and
// checks that each lands where expected.json says (ticket N, reply to ticket N, quarantine,
// ignored), that no automatic or PEC sender gets an acknowledgement, and that an oversized mail is
// quarantined without blocking the next one.
func TestIngestCorpus(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxMessage = 1 << 20 })
	cases := loadCorpus(t)
	for i, c := range cases {
		e.ingest(readCorpus(t, c.File), uint32(i+1))
	}
	e.ingest(oversized(2<<20), uint32(len(cases)+1))
	for _, c := range cases {
		raw := readCorpus(t, c.File)
		outcome, ticket := e.outcomeOf(keyOf(t, raw, e.cfg))
		if outcome != c.Outcome || ticket != c.Ticket {
			t.Errorf("%s: %s ticket %d, want %s ticket %d", c.File, outcome, ticket, c.Outcome, c.Ticket)
		}
	}
	if outcome, _ := e.outcomeOf("oversized@comune.example.it"); outcome != OutcomeQuarantine {
		t.Errorf("oversized mail: %s, want quarantine", outcome)
	}
	tickets := 0
	for _, c := range cases {
		if c.Outcome == "ticket" {
			tickets++
		}
	}
	if n := e.count(`SELECT count(*) FROM helpdesk_tickets`); n != tickets {
		t.Errorf("%d tickets, want %d", n, tickets)
	}
	acks := checkAcks(t, e.queuedMail(), corpusAutomatic(t, e.cfg, cases))
	if acks == 0 {
		t.Error("no acknowledgement at all: the corpus has human senders")
	}
}

// automatic is what the corpus says about automatic and certified mail: the Message-IDs of the
// mail that must never be answered, and the tickets opened from PEC envelopes.
type automatic struct {
	ids        map[string]string // Message-ID -> file
	pecTickets map[int64]string  // ticket -> file
}

func corpusAutomatic(t testing.TB, cfg Config, cases []corpusCase) automatic {
	a := automatic{ids: map[string]string{}, pecTickets: map[int64]string{}}
	for _, c := range cases {
		m := mustParse(t, readCorpus(t, c.File), cfg)
		if c.Outcome == "ignored" || m.PEC.Receipt {
			a.ids[m.MessageID] = c.File
		}
		if m.PEC.Envelope {
			a.ids[m.PEC.EnvelopeMessageID] = c.File
			if c.Outcome == "ticket" {
				a.pecTickets[c.Ticket] = c.File
			}
		}
	}
	return a
}

// checkAcks fails for any acknowledgement that answers automatic or certified mail, or that lacks
// the loop-breaking headers; it returns how many acknowledgements there are.
func checkAcks(t testing.TB, sent []queued, a automatic) int {
	t.Helper()
	acks := 0
	for _, q := range sent {
		if q.get("Auto-Submitted") != "auto-replied" {
			continue
		}
		acks++
		if f, ok := a.ids[strings.Trim(q.get("In-Reply-To"), "<>")]; ok {
			t.Errorf("acknowledgement to %v answers automatic or PEC mail %s", q.To, f)
		}
		n, _ := strconv.ParseInt(q.get("X-Rocca-Ticket"), 10, 64)
		if f, ok := a.pecTickets[n]; ok {
			t.Errorf("acknowledgement to %v for ticket %d, opened by the PEC envelope %s", q.To, n, f)
		}
		if q.From != "" {
			t.Errorf("acknowledgement with envelope sender %q, want the null sender", q.From)
		}
	}
	return acks
}

func TestIngestDedupe(t *testing.T) {
	e := newEnv(t, nil)
	raw := msg{From: "Anna Verdi <anna@comune.example.it>", Subject: "Il PC non si accende", ID: "a1@comune.example.it", Body: "Buongiorno, il PC non si accende."}.bytes()
	e.ingest(raw, 10)
	e.ingest(raw, 10) // the same UID again: a crash between commit and move
	e.ingest(raw, 11) // the same mail under another UID: a second copy delivered
	ctx := context.Background()
	if err := e.svc.Ingest(ctx, raw, MailboxRef{Mailbox: "INBOX", UIDValidity: 2, UID: 1}); err != nil {
		t.Fatal(err) // a UIDVALIDITY change hands everything over again
	}
	if n := e.count(`SELECT count(*) FROM helpdesk_tickets`); n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM helpdesk_messages`); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	if n := len(e.mailTo("anna@comune.example.it")); n != 1 {
		t.Errorf("%d acknowledgements, want 1", n)
	}
	pos, err := e.svc.Position(ctx, "INBOX")
	if err != nil || pos.UIDValidity != 2 || pos.LastUID != 1 {
		t.Errorf("position %+v, %v; want validity 2, last UID 1", pos, err)
	}
	// Without a Message-ID the header hash dedupes the same bytes, and different mail stays apart.
	noID := msg{From: "anna@comune.example.it", Subject: "Senza identificativo", Body: "uno"}.bytes()
	other := msg{From: "anna@comune.example.it", Subject: "Senza identificativo, altro", Body: "due"}.bytes()
	e.ingest(noID, 20)
	e.ingest(noID, 21)
	e.ingest(other, 22)
	if n := e.count(`SELECT count(*) FROM helpdesk_tickets`); n != 3 {
		t.Errorf("%d tickets after mail without Message-ID, want 3", n)
	}
}

func TestThreadingOnlyThroughIDsAndTag(t *testing.T) {
	e := newEnv(t, nil)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	e.ingest(msg{From: "Mario Rossi <mario.rossi@comune.example.it>", Subject: "Stampante guasta", ID: "m1@client.example", Body: "La stampante non va."}.bytes(), 1)
	ctx := context.Background()
	if _, err := e.svc.Reply(ctx, agent, 1, "Provi a spegnerla e riaccenderla.", nil, ""); err != nil {
		t.Fatal(err)
	}
	var reply queued
	for _, q := range e.mailTo("mario.rossi@comune.example.it") {
		if q.get("Auto-Submitted") == "" {
			reply = q
		}
	}
	if reply.Raw == nil {
		t.Fatal("no reply queued")
	}
	ourID := strings.Trim(reply.get("Message-Id"), "<>")
	if !strings.HasSuffix(ourID, "@"+testDomain) {
		t.Errorf("reply Message-ID %q is not ours", ourID)
	}
	if got := reply.get("In-Reply-To"); got != "<m1@client.example>" {
		t.Errorf("In-Reply-To %q, want <m1@client.example>", got)
	}
	if got := reply.get("References"); !strings.Contains(got, "<m1@client.example>") {
		t.Errorf("References %q lacks the first message", got)
	}
	if subj := reply.get("Subject"); !strings.Contains(subj, "[#1]") {
		t.Errorf("reply subject %q lacks the ticket tag", subj)
	}
	if reply.From != testAddress {
		t.Errorf("reply envelope sender %q, want %s", reply.From, testAddress)
	}

	// The staff member answers our reply, with a subject of their own and no tag: threads by ID.
	e.ingest(msg{From: "mario.rossi@comune.example.it", Subject: "ok grazie", ID: "m2@client.example", InReplyTo: ourID,
		References: "<m1@client.example> <" + ourID + ">", Body: "Ora funziona."}.bytes(), 2)
	// Same subject as ticket 1 but no IDs and no tag: a new ticket, never a subject match.
	e.ingest(msg{From: "mario.rossi@comune.example.it", Subject: "Stampante guasta", ID: "m3@client.example", Body: "Un'altra stampante."}.bytes(), 3)
	// A tag only, from a client that drops References.
	e.ingest(msg{From: "mario.rossi@comune.example.it", Subject: "R: [#1] Stampante guasta", ID: "m4@client.example", Body: "Di nuovo."}.bytes(), 4)
	// A tag naming a ticket that does not exist: a new ticket.
	e.ingest(msg{From: "mario.rossi@comune.example.it", Subject: "Re: [#99] boh", ID: "m5@client.example", Body: "?"}.bytes(), 5)

	for key, want := range map[string]struct {
		outcome string
		ticket  int64
	}{
		"m2@client.example": {OutcomeReply, 1},
		"m3@client.example": {OutcomeTicket, 2},
		"m4@client.example": {OutcomeReply, 1},
		"m5@client.example": {OutcomeTicket, 3},
	} {
		if o, n := e.outcomeOf(key); o != want.outcome || n != want.ticket {
			t.Errorf("%s: %s %d, want %s %d", key, o, n, want.outcome, want.ticket)
		}
	}
	v, err := e.svc.Ticket(ctx, agent, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ticket.Status != StatusOpen {
		t.Errorf("ticket 1 is %s after the requester's answer, want open", v.Ticket.Status)
	}
	if len(v.Messages) != 4 {
		t.Errorf("ticket 1 has %d messages, want 4 (mail, reply, answer, tagged answer)", len(v.Messages))
	}
}

func TestClosedTicketPolicies(t *testing.T) {
	for _, policy := range []string{ClosedReopen, ClosedNew} {
		t.Run(policy, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.ClosedReply = policy })
			agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
			ctx := context.Background()
			e.ingest(msg{From: "anna@comune.example.it", Subject: "VPN", ID: "v1@x", Body: "La VPN non va."}.bytes(), 1)
			if err := e.svc.Update(ctx, agent, 1, Changes{Status: StatusClosed}); err != nil {
				t.Fatal(err)
			}
			e.ingest(msg{From: "anna@comune.example.it", Subject: "Re: [#1] VPN", ID: "v2@x", InReplyTo: "v1@x", Body: "Di nuovo!"}.bytes(), 2)
			o, n := e.outcomeOf("v2@x")
			t1, _ := e.svc.Ticket(ctx, agent, 1)
			switch policy {
			case ClosedReopen:
				if o != OutcomeReply || n != 1 || t1.Ticket.Status != StatusOpen {
					t.Errorf("reopen: %s %d, ticket 1 %s; want reply 1, open", o, n, t1.Ticket.Status)
				}
			case ClosedNew:
				t2, err := e.svc.Ticket(ctx, agent, 2)
				if o != OutcomeTicket || n != 2 || err != nil || t2.Ticket.LinkedID != 1 || t1.Ticket.Status != StatusClosed {
					t.Errorf("new: %s %d (%v), ticket 1 %s; want a new ticket 2 linked to the closed 1", o, n, err, t1.Ticket.Status)
				}
				if len(t1.Followups) != 1 || t1.Followups[0] != 2 {
					t.Errorf("ticket 1 follow-ups %v, want [2]", t1.Followups)
				}
			}
		})
	}
}

func TestLoopRulesAndAckLimit(t *testing.T) {
	e := newEnv(t, nil)
	for i, m := range []msg{
		{From: "anna@comune.example.it", Subject: "Risposta automatica: fuori sede", ID: "l1@x", Extra: []string{"Auto-Submitted: auto-replied"}},
		{From: "anna@comune.example.it", Subject: "Notizie", ID: "l2@x", Extra: []string{"Precedence: bulk"}},
		{From: "anna@comune.example.it", Subject: "Lista", ID: "l3@x", Extra: []string{"List-Id: <utenti.lists.example.org>"}},
		{From: "anna@comune.example.it", Subject: "Suppress", ID: "l4@x", Extra: []string{"X-Auto-Response-Suppress: All"}},
		{From: "anna@comune.example.it", Subject: "Autoreply", ID: "l5@x", Extra: []string{"X-Autoreply: yes"}},
		{From: "anna@comune.example.it", Subject: "Bounce", ID: "l6@x", Extra: []string{"Return-Path: <>"}},
		{From: "MAILER-DAEMON@mx.example.org", Subject: "Undelivered", ID: "l7@x"},
		{From: "noreply@fornitore.example.com", Subject: "Fattura", ID: "l8@x"},
		{From: testAddress, Subject: "Our own", ID: "l9@x"},
		{From: "anna@comune.example.it", Subject: "Loop", ID: "l10@" + testDomain},
		{From: "anna@comune.example.it", Subject: "Re: [#1] tag", ID: "l11@x", Extra: []string{"X-Rocca-Ticket: 1"}},
	} {
		m.Body = "automatico"
		e.ingest(m.bytes(), uint32(i+1))
		if o, _ := e.outcomeOf(m.ID); o != OutcomeIgnored {
			t.Errorf("%s (%s): %s, want ignored", m.ID, m.Subject, o)
		}
	}
	if n := len(e.queuedMail()); n != 0 {
		t.Fatalf("%d mails queued for automatic mail, want none", n)
	}
	// Five tickets from one person in a day: three acknowledgements, then silence.
	for i := range 5 {
		e.ingest(msg{From: "anna@comune.example.it", Subject: "Richiesta", ID: "h" + string(rune('a'+i)) + "@x", Body: "aiuto"}.bytes(), uint32(100+i))
	}
	acks := e.mailTo("anna@comune.example.it")
	if len(acks) != 3 {
		t.Fatalf("%d acknowledgements, want 3", len(acks))
	}
	for _, a := range acks {
		if a.get("Auto-Submitted") != "auto-replied" || a.From != "" || !strings.Contains(a.get("Subject"), "[#") {
			t.Errorf("acknowledgement headers: Auto-Submitted %q, envelope %q, subject %q", a.get("Auto-Submitted"), a.From, a.get("Subject"))
		}
	}
	// A day later the limit starts again.
	e.clock.Add(25 * time.Hour)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Altra", ID: "later@x", Body: "ancora"}.bytes(), 200)
	if n := len(e.mailTo("anna@comune.example.it")); n != 4 {
		t.Errorf("%d acknowledgements after a day, want 4", n)
	}
}

func TestSenderPolicy(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.AllowedDomains = []string{"comune.example.it"}
		c.ExternalSenders = ExternalHold
	})
	admin := e.user("admin@altro.example.org", rocca.RoleAdmin)
	staff := e.user("consulente@studio.example.net", rocca.RoleStaff)
	// An account's address is allowed whatever its domain; Reply-To never counts.
	e.ingest(msg{From: staff.Email, ReplyTo: "chiunque@spam.example", Subject: "Accesso", ID: "s1@x", Body: "aiuto"}.bytes(), 1)
	e.ingest(msg{From: "esterno@fornitore.example.com", ReplyTo: "ufficio@comune.example.it", Subject: "Offerta", ID: "s2@x", Body: "compra"}.bytes(), 2)
	e.ingest(msg{From: "impiegato@comune.example.it", Subject: "Mouse", ID: "s3@x", Body: "rotto"}.bytes(), 3)
	if o, n := e.outcomeOf("s1@x"); o != OutcomeTicket {
		t.Errorf("user from another domain: %s %d, want ticket", o, n)
	}
	if o, _ := e.outcomeOf("s2@x"); o != OutcomeHeld {
		t.Errorf("external sender with Reply-To in the allowed domain: %s, want held", o)
	}
	if o, _ := e.outcomeOf("s3@x"); o != OutcomeTicket {
		t.Errorf("allowed domain: %s, want ticket", o)
	}
	ctx := context.Background()
	v, _ := e.svc.Ticket(ctx, admin, 1)
	if v.Ticket.RequesterID != staff.ID || v.Ticket.RequesterEmail != staff.Email {
		t.Errorf("requester %d %s, want the account %d", v.Ticket.RequesterID, v.Ticket.RequesterEmail, staff.ID)
	}
	if n := len(e.mailTo("esterno@fornitore.example.com")) + len(e.mailTo("chiunque@spam.example")); n != 0 {
		t.Errorf("%d mails to the held sender or a Reply-To, want none", n)
	}
	q, err := e.svc.Quarantine(ctx, admin)
	if err != nil || len(q) != 1 || q[0].Outcome != OutcomeHeld {
		t.Fatalf("quarantine %+v, %v; want the held mail", q, err)
	}
	if _, err := e.svc.Quarantine(ctx, staff); rocca.ErrorCodeOf(err) != rocca.EFORBIDDEN {
		t.Errorf("staff reading the quarantine: %v, want forbidden", err)
	}
	n, err := e.svc.Release(ctx, admin, q[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	rv, _ := e.svc.Ticket(ctx, admin, n)
	if !rv.Ticket.External || len(rv.Messages) != 1 || !strings.Contains(rv.Messages[0].Text, "compra") {
		t.Errorf("released ticket %+v with %d messages", rv.Ticket, len(rv.Messages))
	}
	// A second delivery of the released mail is a duplicate, not another ticket.
	e.ingest(msg{From: "esterno@fornitore.example.com", ReplyTo: "ufficio@comune.example.it", Subject: "Offerta", ID: "s2@x", Body: "compra"}.bytes(), 4)
	if c := e.count(`SELECT count(*) FROM helpdesk_tickets`); c != 3 {
		t.Errorf("%d tickets, want 3", c)
	}
}

func TestQuarantineNeverBlocks(t *testing.T) {
	e := newEnv(t, nil)
	bad := readCorpus(t, "036-malformed-boundary.eml")
	e.ingest(bad, 1)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Dopo", ID: "after@x", Body: "ok"}.bytes(), 2)
	if o, _ := e.outcomeOf(keyOf(t, bad, e.cfg)); o != OutcomeQuarantine {
		t.Errorf("malformed mail: %s, want quarantine", o)
	}
	if o, n := e.outcomeOf("after@x"); o != OutcomeTicket || n != 1 {
		t.Errorf("next mail: %s %d, want ticket 1", o, n)
	}
	admin := e.user("admin@comune.example.it", rocca.RoleAdmin)
	q, _ := e.svc.Quarantine(context.Background(), admin)
	if len(q) != 1 || q[0].Reason != "helpdesk.mailin.error.boundary" {
		t.Fatalf("quarantine %+v", q)
	}
	n, err := e.svc.Release(context.Background(), admin, q[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := e.svc.Ticket(context.Background(), admin, n)
	if len(v.Messages) != 1 || len(v.Messages[0].Files) != 1 || v.Messages[0].Files[0].Filename != "messaggio-originale.eml" {
		t.Errorf("released unreadable mail: %+v", v.Messages)
	}
}

func TestSearchIgnoresAccents(t *testing.T) {
	e := newEnv(t, nil)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Perché la città è senza rete?", ID: "q1@x", Body: "Non funziona più niente."}.bytes(), 1)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Toner", ID: "q2@x", Body: "Serve il toner nero."}.bytes(), 2)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	if _, err := e.svc.AddNote(context.Background(), agent, 2, "Ordinato al fornitore Würth", nil); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]int64{
		"perche":             {1},
		"PERCHÉ":             {1},
		"citta rete":         {1},
		"piu":                {1},
		"ton":                {2}, // prefix
		"wurth":              {2}, // notes are searchable by agents
		`"toner" OR nero*`:   {},  // operators are words, not syntax: "or" is not in ticket 2
		"zzz":                {},
		`"; DROP TABLE x --`: {},
	} {
		got, err := e.svc.Queue(context.Background(), agent, Filter{Query: q})
		if err != nil {
			t.Errorf("search %q: %v", q, err)
			continue
		}
		var nums []int64
		for _, tk := range got {
			nums = append(nums, tk.Number)
		}
		if len(nums) != len(want) || (len(want) > 0 && nums[0] != want[0]) {
			t.Errorf("search %q found %v, want %v", q, nums, want)
		}
	}
}

func TestRetention(t *testing.T) {
	e := newEnv(t, nil)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Vera", ID: "r1@x", Body: "aiuto"}.bytes(), 1)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Auto", ID: "r2@x", Body: "x", Extra: []string{"Auto-Submitted: auto-generated"}}.bytes(), 2)
	e.clock.Add(20 * 24 * time.Hour)
	if p, err := e.svc.Purge(context.Background()); err != nil || p.LogLines != 0 || p.Mails != 0 {
		t.Fatalf("purge after 20 days: %+v, %v; want nothing", p, err)
	}
	e.clock.Add(2 * 24 * time.Hour)
	p, err := e.svc.Purge(context.Background())
	if err != nil || p.LogLines != 2 || p.Mails != 1 {
		t.Fatalf("purge after 22 days: %+v, %v; want 2 log lines and the automatic mail", p, err)
	}
	if n := e.count(`SELECT count(*) FROM helpdesk_mails`); n != 1 {
		t.Errorf("%d mails kept, want the one of the ticket", n)
	}
}

func TestAgentReplyAttachmentsAndPortal(t *testing.T) {
	e := newEnv(t, nil)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	staff := e.user("anna@comune.example.it", rocca.RoleStaff)
	other := e.user("bruno@comune.example.it", rocca.RoleStaff)
	ctx := context.Background()
	tk, err := e.svc.CreateRequest(ctx, staff, "Nuovo monitor", "Il monitor sfarfalla.", []Upload{{Filename: "../../foto.png", ContentType: "image/png", Data: []byte("\x89PNG fake")}})
	if err != nil {
		t.Fatal(err)
	}
	notes := e.mailTo(agent.Email)
	if len(notes) != 1 || notes[0].get("Auto-Submitted") != "auto-generated" || notes[0].From != "" {
		t.Fatalf("agent notification: %d mails %+v", len(notes), notes)
	}
	if _, err := e.svc.AddNote(ctx, agent, tk.Number, "Segreto: ordinare", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Reply(ctx, agent, tk.Number, "Lo sostituiamo domani.", []Upload{{Filename: "modulo.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4")}}, StatusResolved); err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.MyTicket(ctx, staff, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range v.Messages {
		if m.Kind == KindNote {
			t.Error("the requester sees an internal note")
		}
	}
	if v.Ticket.Status != StatusResolved || v.Ticket.AssigneeID != agent.ID {
		t.Errorf("after the reply: %s, assignee %d", v.Ticket.Status, v.Ticket.AssigneeID)
	}
	if _, err := e.svc.MyTicket(ctx, other, tk.Number); rocca.ErrorCodeOf(err) != rocca.ENOTFOUND {
		t.Errorf("another user's ticket: %v, want not found", err)
	}
	if f := v.Messages[0].Files; len(f) != 1 || f[0].Filename != "foto.png" {
		t.Errorf("uploaded file %+v, want foto.png", f)
	}
	a, file, err := e.svc.OpenAttachment(ctx, staff, v.Messages[0].Files[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	file.Close()
	if _, _, err := e.svc.OpenAttachment(ctx, other, a.ID); rocca.ErrorCodeOf(err) != rocca.ENOTFOUND {
		t.Errorf("another user's attachment: %v, want not found", err)
	}
	reply := e.mailTo(staff.Email)
	if len(reply) != 1 || !strings.Contains(string(reply[0].Raw), "modulo.pdf") {
		t.Fatalf("reply mail to the requester: %d", len(reply))
	}
	// The requester answers from the portal: the resolved ticket opens again.
	if _, err := e.svc.RequesterReply(ctx, staff, tk.Number, "Grazie, ma sfarfalla ancora.", nil); err != nil {
		t.Fatal(err)
	}
	v, _ = e.svc.MyTicket(ctx, staff, tk.Number)
	if v.Ticket.Status != StatusOpen {
		t.Errorf("after the requester's answer: %s, want open", v.Ticket.Status)
	}
	if n := len(e.mailTo(agent.Email)); n != 2 {
		t.Errorf("%d notifications to the assignee, want 2 (new ticket, answer)", n)
	}
	if _, err := e.svc.Reply(ctx, staff, tk.Number, "io non sono un agente", nil, ""); rocca.ErrorCodeOf(err) != rocca.EFORBIDDEN {
		t.Errorf("staff replying as agent: %v, want forbidden", err)
	}
}

func TestStatusAndPriority(t *testing.T) {
	e := newEnv(t, nil)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Urgente", ID: "p1@x", Body: "aiuto"}.bytes(), 1)
	ctx := context.Background()
	cat := "rete"
	if err := e.svc.Update(ctx, agent, 1, Changes{Priority: PriorityUrgent, Category: &cat}); err != nil {
		t.Fatal(err)
	}
	v, _ := e.svc.Ticket(ctx, agent, 1)
	if !v.Ticket.DueAt.Equal(v.Ticket.CreatedAt.Add(4*time.Hour)) || v.Ticket.Category != "rete" {
		t.Errorf("due %v (created %v), category %q", v.Ticket.DueAt, v.Ticket.CreatedAt, v.Ticket.Category)
	}
	bad := "astronavi"
	if err := e.svc.Update(ctx, agent, 1, Changes{Category: &bad}); rocca.ErrorCodeOf(err) != rocca.EINVALID {
		t.Errorf("unknown category: %v", err)
	}
	for _, s := range []string{"in attesa", "Chiuso", "resolved"} {
		if _, err := ParseStatus(s); err != nil {
			t.Errorf("ParseStatus(%q): %v", s, err)
		}
	}
	e.clock.Add(5 * time.Hour)
	if !v.Ticket.Overdue(e.clock.Now()) {
		t.Error("an urgent ticket 5 hours old is not overdue")
	}
	list, err := e.svc.AdminList(ctx, ListRequest{Status: "nuovo"})
	if err != nil || len(list) != 1 {
		t.Errorf("admin list: %d, %v", len(list), err)
	}
	if _, err := e.svc.AdminList(ctx, ListRequest{Status: "boh"}); rocca.ErrorCodeOf(err) != rocca.EINVALID {
		t.Errorf("bad status: %v", err)
	}
}

// TestOddAddressNeverBlocks: a sender address the outbox refuses costs the acknowledgement, not
// the mail, and the next mail goes on.
func TestOddAddressNeverBlocks(t *testing.T) {
	e := newEnv(t, nil)
	e.user("tecnico@comune.example.it", rocca.RoleAgent)
	e.ingest(msg{From: `"strano indirizzo"@comune.example.it`, Subject: "Indirizzo strano", ID: "odd@x", Body: "ciao"}.bytes(), 1)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Dopo", ID: "odd-after@x", Body: "ok"}.bytes(), 2)
	if o, n := e.outcomeOf("odd@x"); o != OutcomeTicket || n != 1 {
		t.Errorf("odd sender: %s %d, want ticket 1", o, n)
	}
	if o, n := e.outcomeOf("odd-after@x"); o != OutcomeTicket || n != 2 {
		t.Errorf("next mail: %s %d, want ticket 2", o, n)
	}
	if n := len(e.mailTo("anna@comune.example.it")); n != 1 {
		t.Errorf("%d acknowledgements to the next sender, want 1", n)
	}
}

// TestSearchBeyondWindow: a match older than the newest searchWindow matching messages is still
// found when the filters leave too few results in the window.
func TestSearchBeyondWindow(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	now := e.clock.Now()
	err := e.db.WithTx(ctx, func(tx *sql.Tx) error {
		for i := range searchWindow + 100 {
			tk := &Ticket{Subject: fmt.Sprintf("Stampante %d", i), RequesterEmail: "anna@comune.example.it",
				Status: StatusOpen, Priority: PriorityNormal, Source: "web", CreatedAt: now, UpdatedAt: now, DueAt: now}
			if i == 0 {
				tk.Status = StatusClosed
			}
			if err := insertTicket(ctx, tx, tk); err != nil {
				return err
			}
			if err := insertMessage(ctx, tx, &Message{Ticket: tk.Number, Kind: KindInbound, Text: "la stampante è guasta", CreatedAt: now}, tk.Subject); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	got, err := e.svc.Queue(ctx, agent, Filter{Query: "stampante", Statuses: []Status{StatusClosed}})
	if err != nil || len(got) != 1 || got[0].Number != 1 {
		t.Fatalf("closed ticket beyond the search window: %v, %v", got, err)
	}
	got, _ = e.svc.Queue(ctx, agent, Filter{Query: "stampante", Limit: 10})
	if len(got) != 10 || got[0].Number != searchWindow+100 {
		t.Errorf("newest matches first: got %d tickets, first %v", len(got), got)
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t, nil)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Uno", ID: "st1@x", Body: "x"}.bytes(), 1)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Auto", ID: "st2@x", Body: "x", Extra: []string{"Precedence: bulk"}}.bytes(), 2)
	e.ingest(readCorpus(t, "036-malformed-boundary.eml"), 3)
	e.clock.Add(4 * 24 * time.Hour)
	st, err := e.svc.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Tickets[StatusNew] != 1 || st.Overdue != 1 || st.Quarantine != 1 || st.Ingested[OutcomeIgnored] != 1 || st.Ingested[OutcomeTicket] != 1 {
		t.Errorf("stats %+v", st)
	}
}
