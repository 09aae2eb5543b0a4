package helpdesk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/helpdesk/internal/imaptest"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
	"github.com/rocca-pa/rocca/internal/mail"
)

// e2e is the helpdesk wired as in production: a real Dovecot read by the Syncer, the outbox
// delivering to a real SMTP server, on a database file, with the real clock.
type e2e struct {
	*env
	dovecot *imaptest.Dovecot
	smtp    *smtpSink
	syncer  *mailin.Syncer
}

func startE2E(t *testing.T, tune func(*Config)) *e2e {
	t.Helper()
	d := imaptest.Start(t)
	sm := startSMTP(t)
	e := newEnv(t, tune)
	logger := testLogger()
	e.outbox = mail.NewOutbox(e.db, mail.NewSMTP(sm.config(), logger), logger, time.Now)
	svc, err := NewService(e.db, e.cfg, e.auth, e.outbox, catalog(t), logger, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	cfg := mailin.IMAPConfig{
		Host: "127.0.0.1", Port: d.Port, Security: mailin.SecurityNone, User: d.User, PasswordFile: d.PasswordFile,
		Folder: "INBOX", ProcessedFolder: "Rocca/Elaborati", PollInterval: time.Hour,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, Timeout: 20 * time.Second,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	x := &e2e{env: e, dovecot: d, smtp: sm, syncer: mailin.NewSyncer(cfg, svc, logger, nil)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { e.outbox.Run(ctx); done <- struct{}{} }()
	go func() { x.syncer.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	return x
}

// waitHandled waits until the helpdesk has logged n handed-over mails and INBOX is empty.
func (x *e2e) waitHandled(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := x.count(`SELECT count(*) FROM helpdesk_ingest_log`)
		if got >= n && x.dovecot.Count("INBOX") == 0 {
			if got > n {
				t.Fatalf("%d mails handed over, want %d", got, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d mails handed over, %d still in INBOX (syncer %+v)\n%s",
				got, n, x.dovecot.Count("INBOX"), x.syncer.Status(), x.dovecot.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOutbox waits until the outbox has nothing left to send.
func (x *e2e) waitOutbox(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := x.outbox.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st[mail.StateQueued]+st[mail.StateSending] == 0 {
			if st[mail.StateFailed] > 0 {
				t.Fatalf("%d outbox messages failed", st[mail.StateFailed])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox not drained: %v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2ECorpusThroughDovecot is acceptance 1 and 3 and the UIDVALIDITY and restart parts of 2:
// the corpus delivered to Dovecot lands where expected.json says; no acknowledgement reaches an
// automatic sender; processed mail is moved; an agent's reply from the web reaches the SMTP
// server threaded and tagged, and the requester's answer to it joins the ticket; every mail
// handed over again under a new UIDVALIDITY is a duplicate; mail that arrives while Dovecot is
// down is taken after it restarts.
func TestE2ECorpusThroughDovecot(t *testing.T) {
	x := startE2E(t, func(c *Config) { c.MaxMessage = 1 << 20 })
	cases := loadCorpus(t)
	for _, c := range cases {
		x.dovecot.Save("INBOX", readCorpus(t, c.File))
	}
	x.dovecot.Save("INBOX", oversized(2<<20))
	handed := len(cases) + 1
	x.waitHandled(t, handed)

	for _, c := range cases {
		outcome, ticket := x.outcomeOf(keysOf(t, readCorpus(t, c.File), x.cfg)...)
		if outcome != c.Outcome || ticket != c.Ticket {
			t.Errorf("%s: %s ticket %d, want %s ticket %d", c.File, outcome, ticket, c.Outcome, c.Ticket)
		}
	}
	if o, _ := x.outcomeOf("oversized@comune.example.it"); o != OutcomeQuarantine {
		t.Errorf("oversized mail: %s, want quarantine", o)
	}
	processed := processedFolder(t, x.dovecot)
	if n := x.dovecot.Count(processed); n != handed {
		t.Errorf("processed folder %s holds %d messages, want %d", processed, n, handed)
	}

	x.waitOutbox(t)
	received := x.smtp.received()
	if acks := checkAcks(t, received, corpusAutomatic(t, x.cfg, cases)); acks == 0 || acks != len(x.queuedMail()) {
		t.Errorf("%d acknowledgements received, %d queued", acks, len(x.queuedMail()))
	}
	tickets, messages, mails := x.totals(t)

	// Acceptance 3: the agent answers ticket 1 from the web.
	agent := x.user("tecnico@comune.example.it", rocca.RoleAgent)
	ts := x.webServer(t, agent)
	res, body := postForm(t, ts, agent, "/helpdesk/tickets/1/reply", url.Values{"text": {"Abbiamo cambiato il cassetto."}, "status": {"waiting"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d\n%s", res.StatusCode, body)
	}
	got := x.smtp.waitFor(t, "the agent's reply", func(l []queued) bool {
		for _, q := range addressed(l, "mario.rossi@comune.example.it") {
			if strings.Contains(string(q.Raw), "cassetto") {
				return true
			}
		}
		return false
	})
	var reply queued
	for _, q := range addressed(got, "mario.rossi@comune.example.it") {
		if strings.Contains(string(q.Raw), "cassetto") {
			reply = q
		}
	}
	checkReplyHeaders(t, x.env, reply, 1)
	ourID := strings.Trim(reply.get("Message-Id"), "<>")
	answer := msg{From: "Mario Rossi <mario.rossi@comune.example.it>", Subject: "Re: Stampante dell'ufficio anagrafe",
		ID: "risposta-mario@comune.example.it", InReplyTo: ourID, References: reply.get("References") + " <" + ourID + ">",
		Body: "Grazie, ora stampa.\n\nIl giorno lun 2 mar 2026 Helpdesk ha scritto:\n> Abbiamo cambiato il cassetto."}
	x.dovecot.Save("INBOX", answer.bytes())
	handed++
	x.waitHandled(t, handed)
	if o, n := x.outcomeOf("risposta-mario@comune.example.it"); o != OutcomeReply || n != 1 {
		t.Errorf("the requester's answer: %s %d, want reply to ticket 1", o, n)
	}
	messages, mails = messages+2, mails+1

	// Every processed mail back in INBOX, under a new UIDVALIDITY: all duplicates.
	copyBack(t, x.dovecot, processed)
	x.dovecot.ResetUIDValidity()
	handed += handed
	x.waitHandled(t, handed)
	t2, m2, ma2 := x.totals(t)
	if t2 != tickets || m2 != messages || ma2 != mails {
		t.Errorf("after the UIDVALIDITY reset: %d tickets, %d messages, %d mails; want %d, %d, %d",
			t2, m2, ma2, tickets, messages, mails)
	}
	x.waitOutbox(t)
	// Since the corpus: the reply, and the notice of the answer to the agent it was assigned to.
	if n := len(x.smtp.received()); n != len(x.queuedMail()) || n != len(received)+2 {
		t.Errorf("%d mails sent after the duplicates, want %d (nothing new but the reply and the agent's notice)", n, len(received)+2)
	}
	if n := len(addressed(x.smtp.received(), agent.Email)); n != 1 {
		t.Errorf("%d notices to the agent, want 1", n)
	}

	// Dovecot goes down, mail arrives meanwhile, Dovecot comes back: ingest resumes by itself.
	before := x.syncer.LastSync()
	x.dovecot.Stop()
	for i := range 3 {
		x.dovecot.SaveOffline(msg{From: "anna@comune.example.it", Subject: fmt.Sprintf("Durante il riavvio %d", i),
			ID: fmt.Sprintf("riavvio-%d@comune.example.it", i), Body: "Posta arrivata a server fermo."}.bytes())
	}
	x.dovecot.Start()
	handed += 3
	x.waitHandled(t, handed)
	for i := range 3 {
		if o, _ := x.outcomeOf(fmt.Sprintf("riavvio-%d@comune.example.it", i)); o != OutcomeTicket {
			t.Errorf("mail %d during the restart: %s, want ticket", i, o)
		}
	}
	if !x.syncer.LastSync().After(before) {
		t.Error("last successful sync did not move after the restart")
	}
}

// checkReplyHeaders checks what makes the requester's mail client thread our reply.
func checkReplyHeaders(t *testing.T, e *env, q queued, ticket int64) {
	t.Helper()
	id := strings.Trim(q.get("Message-Id"), "<>")
	if !strings.HasSuffix(id, "@"+testDomain) {
		t.Errorf("reply Message-ID %q not in our domain %s", id, testDomain)
	}
	if !strings.Contains(q.get("Subject"), fmt.Sprintf("[#%d]", ticket)) {
		t.Errorf("reply subject %q lacks [#%d]", q.get("Subject"), ticket)
	}
	var first, last string
	e.db.QueryRow(`SELECT message_id FROM helpdesk_messages WHERE ticket_id = ? AND kind = 'inbound' ORDER BY id LIMIT 1`, ticket).Scan(&first)
	e.db.QueryRow(`SELECT message_id FROM helpdesk_messages WHERE ticket_id = ? AND kind = 'inbound' ORDER BY id DESC LIMIT 1`, ticket).Scan(&last)
	if q.get("In-Reply-To") != "<"+last+">" {
		t.Errorf("In-Reply-To %q, want <%s>", q.get("In-Reply-To"), last)
	}
	if refs := q.get("References"); !strings.Contains(refs, "<"+first+">") || !strings.Contains(refs, "<"+last+">") {
		t.Errorf("References %q lack the thread (%s … %s)", refs, first, last)
	}
	if q.From != testAddress || q.get("Auto-Submitted") != "" {
		t.Errorf("reply envelope %q, Auto-Submitted %q; want %s and none", q.From, q.get("Auto-Submitted"), testAddress)
	}
}

func (e *env) totals(t *testing.T) (tickets, messages, mails int) {
	return e.count(`SELECT count(*) FROM helpdesk_tickets`), e.count(`SELECT count(*) FROM helpdesk_messages`),
		e.count(`SELECT count(*) FROM helpdesk_mails`)
}

func processedFolder(t *testing.T, d *imaptest.Dovecot) string {
	t.Helper()
	c := d.Client()
	defer c.Logout()
	ch := make(chan *imap.MailboxInfo, 10)
	done := make(chan error, 1)
	go func() { done <- c.List("", "Rocca*Elaborati", ch) }()
	name := ""
	for mb := range ch {
		name = mb.Name
	}
	if err := <-done; err != nil || name == "" {
		t.Fatalf("processed folder not found: %v", err)
	}
	return name
}

// copyBack copies every message of folder back into INBOX.
func copyBack(t *testing.T, d *imaptest.Dovecot, folder string) {
	t.Helper()
	c := d.Client()
	defer c.Logout()
	if _, err := c.Select(folder, false); err != nil {
		t.Fatal(err)
	}
	all := new(imap.SeqSet)
	all.AddRange(1, 0)
	if err := c.Copy(all, "INBOX"); err != nil {
		t.Fatal(err)
	}
}
