package helpdesk

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/helpdesk/internal/imaptest"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
)

// The environment of the ingest process that TestExactlyOnceUnderSIGKILL starts and kills.
const (
	envChild     = "ROCCA_HELPDESK_CHILD" // the data directory
	envIMAPPort  = "ROCCA_HELPDESK_IMAP_PORT"
	envIMAPUser  = "ROCCA_HELPDESK_IMAP_USER"
	envIMAPPass  = "ROCCA_HELPDESK_IMAP_PASSWORD_FILE"
	crashMails   = 500
	crashExtra   = 20 // delivered while Dovecot restarts under the last run
	crashKills   = 25
	replyEvery   = 5 // every 5th mail answers the one before it
	crashMaxWait = 120 * time.Millisecond
)

// TestHelperIngestProcess is the child of TestExactlyOnceUnderSIGKILL: the helpdesk and the IMAP
// syncer on the parent's database and Dovecot, running until it is killed.
func TestHelperIngestProcess(t *testing.T) {
	dir := os.Getenv(envChild)
	if dir == "" {
		t.Skip("helper process of TestExactlyOnceUnderSIGKILL; runs only as its child, with " + envChild + " set")
	}
	// Exit when the parent goes away (stdin closes), so no orphan is left behind.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	e := openEnv(t, dir, nil)
	svc, err := NewService(e.db, e.cfg, e.auth, e.outbox, catalog(t), testLogger(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(os.Getenv(envIMAPPort))
	s := mailin.NewSyncer(mailin.IMAPConfig{
		Host: "127.0.0.1", Port: port, Security: mailin.SecurityNone, User: os.Getenv(envIMAPUser),
		PasswordFile: os.Getenv(envIMAPPass), Folder: "INBOX", ProcessedFolder: "Rocca/Elaborati", Batch: 5,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	}, svc, testLogger(), nil)
	fmt.Println("running")
	s.Run(context.Background())
}

func crashMail(i int) []byte {
	m := msg{From: fmt.Sprintf("Utente %d <utente%d@comune.example.it>", i, i), Subject: fmt.Sprintf("Richiesta %d", i),
		ID: fmt.Sprintf("crash-%d@client.example", i), Body: fmt.Sprintf("Testo della richiesta %d.", i)}
	if i%replyEvery == replyEvery-1 {
		prev := i - 1
		m.From = fmt.Sprintf("Utente %d <utente%d@comune.example.it>", prev, prev)
		m.Subject = fmt.Sprintf("Re: Richiesta %d", prev)
		m.InReplyTo = fmt.Sprintf("crash-%d@client.example", prev)
		m.References = "<" + m.InReplyTo + ">"
	}
	return m.bytes()
}

// TestExactlyOnceUnderSIGKILL is acceptance 2: 500 mails in Dovecot are ingested by a process that
// is killed with SIGKILL at random points, again and again, and then left to finish while Dovecot
// restarts under it and 20 more mails arrive. At the end there is exactly one stored mail, ticket
// message and acknowledgement per mail, every reply is in its ticket, every mail is in the
// processed folder, and INBOX is empty.
func TestExactlyOnceUnderSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("the SIGKILL test takes a minute; it runs without -short")
	}
	d := imaptest.Start(t)
	dir := t.TempDir()
	openEnv(t, dir, nil).db.Close() // create and migrate the database once
	var raws [][]byte
	for i := range crashMails {
		raws = append(raws, crashMail(i))
	}
	d.Append("INBOX", raws)

	start := func() (*exec.Cmd, io.WriteCloser) {
		child := exec.Command(os.Args[0], "-test.run=^TestHelperIngestProcess$", "-test.timeout=10m")
		child.Env = append(os.Environ(), envChild+"="+dir, envIMAPPort+"="+strconv.Itoa(d.Port),
			envIMAPUser+"="+d.User, envIMAPPass+"="+d.PasswordFile)
		child.Stderr = os.Stderr
		stdin, err := child.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := child.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		if !sc.Scan() || sc.Text() != "running" {
			child.Process.Kill()
			child.Wait()
			t.Fatalf("the ingest process did not start (%q)", sc.Text())
		}
		go io.Copy(io.Discard, stdout)
		return child, stdin
	}
	kill := func(child *exec.Cmd, stdin io.WriteCloser) {
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
		stdin.Close()
	}

	check := openEnv(t, dir, nil) // a reader beside the children
	handled := func() int { return check.count(`SELECT count(*) FROM helpdesk_mails`) }
	for k := 0; k < crashKills; k++ {
		child, stdin := start()
		time.Sleep(time.Duration(rand.Int64N(int64(crashMaxWait)))) // a random point; not a timing assertion
		kill(child, stdin)
		if handled() == crashMails && d.Count("INBOX") == 0 {
			t.Logf("all mail handled after %d kills", k+1)
			break
		}
	}
	t.Logf("%d of %d mails stored, %d still in INBOX, before the last run", handled(), crashMails, d.Count("INBOX"))
	// The last run: Dovecot restarts under it, and mail delivered meanwhile must be taken too.
	child, stdin := start()
	time.Sleep(time.Duration(rand.Int64N(int64(crashMaxWait))))
	d.Stop()
	for i := range crashExtra {
		d.SaveOffline(crashMail(crashMails + i*replyEvery)) // never a reply
	}
	d.Start()
	total := crashMails + crashExtra
	deadline := time.Now().Add(3 * time.Minute)
	for handled() < total || d.Count("INBOX") != 0 {
		if time.Now().After(deadline) {
			kill(child, stdin)
			t.Fatalf("after the kills: %d of %d mails stored, %d in INBOX", handled(), total, d.Count("INBOX"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	kill(child, stdin)

	replies := crashMails / replyEvery
	for what, c := range map[string][2]int{
		"stored mails":            {check.count(`SELECT count(DISTINCT dedupe_key) FROM helpdesk_mails`), total},
		"mail rows":               {check.count(`SELECT count(*) FROM helpdesk_mails`), total},
		"ticket messages":         {check.count(`SELECT count(*) FROM helpdesk_messages`), total},
		"distinct Message-IDs":    {check.count(`SELECT count(DISTINCT message_id) FROM helpdesk_messages`), total},
		"tickets":                 {check.count(`SELECT count(*) FROM helpdesk_tickets`), total - replies},
		"replies in their ticket": {check.count(`SELECT count(*) FROM helpdesk_mails WHERE outcome = 'reply'`), replies},
		"acknowledgements queued": {check.count(`SELECT count(*) FROM mail_outbox`), total - replies},
		"acknowledgement records": {check.count(`SELECT count(*) FROM helpdesk_sent WHERE kind = 'ack'`), total - replies},
		"processed folder":        {d.Count(processedFolder(t, d)), total},
	} {
		if c[0] != c[1] {
			t.Errorf("%s: %d, want %d", what, c[0], c[1])
		}
	}
	// Every reply landed in the ticket of the mail it answers.
	wrong := check.count(`SELECT count(*) FROM helpdesk_messages r JOIN helpdesk_messages o
		ON r.in_reply_to = o.message_id WHERE r.ticket_id != o.ticket_id`)
	if wrong != 0 {
		t.Errorf("%d replies in the wrong ticket", wrong)
	}
}
