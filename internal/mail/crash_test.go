package mail

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The environment of the helper process started by the kill -9 tests.
const (
	envHelper = "ROCCA_MAIL_HELPER" // "queued" or "sending"
	envDB     = "ROCCA_MAIL_DB"
	envSMTP   = "ROCCA_MAIL_SMTP" // host:port the child sends to (mode "queued")
)

// TestHelperProcess is the child of TestOutboxSurvivesKill: it queues a message in the database named
// by the environment, prints a line saying how far it got, and waits to be killed.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(envHelper)
	if mode == "" {
		t.Skip("helper process of TestOutboxSurvivesKill; runs only as its child, with " + envHelper + " set")
	}
	// Exit when the parent goes away (stdin closes), so no orphan is left behind.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	db := openDB(t, os.Getenv(envDB))
	ctx := context.Background()
	var sender Sender
	switch mode {
	case "queued":
		// The relay is unreachable: the message stays queued (or is between attempts).
		host, port, _ := net.SplitHostPort(os.Getenv(envSMTP))
		p, _ := strconv.Atoi(port)
		sender = NewSMTP(SMTPConfig{Host: host, Port: p, Security: SecurityNone, Timeout: 10 * time.Second}, discardLogger())
	case "sending":
		// The relay takes the message and never answers the end of DATA: the child is killed while
		// the message is "sending".
		ts := startServer(t, serverOptions{})
		ts.dataHook = func() {
			fmt.Println("sending")
			select {}
		}
		sender = NewSMTP(ts.config(), discardLogger())
	default:
		t.Fatalf("unknown helper mode %q", mode)
	}
	o := NewOutbox(db, sender, discardLogger(), time.Now)
	go o.Run(ctx)
	id, err := o.Enqueue(ctx, annaEnv, testRaw(t, "Sopravvive al kill -9"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("queued %d\n", id)
	select {}
}

// TestOutboxSurvivesKill is the acceptance test of the outbox: a message queued by a process that
// is then killed with SIGKILL is delivered exactly once by the next process, and one killed while
// it was being sent is sent again with the same Message-ID.
func TestOutboxSurvivesKill(t *testing.T) {
	for _, mode := range []string{"queued", "sending"} {
		t.Run(mode, func(t *testing.T) { testSurvivesKill(t, mode) })
	}
}

func testSurvivesKill(t *testing.T, mode string) {
	dbPath := filepath.Join(t.TempDir(), "rocca.db")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := l.Addr().String()
	l.Close() // nothing listens there any more

	child := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	child.Env = append(os.Environ(), envHelper+"="+mode, envDB+"="+dbPath, envSMTP+"="+unreachable)
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			child.Process.Kill()
			child.Wait()
		}
	})

	// Wait for the child to say how far it got: "queued N", and in mode "sending" also "sending".
	want := map[string]bool{"queued": true, "sending": mode == "sending"}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var id int64
	for want["queued"] || want["sending"] {
		line, ok := <-lines
		if !ok {
			t.Fatalf("the child ended before it queued the message (mode %s)", mode)
		}
		word, arg, _ := strings.Cut(line, " ")
		if word == "queued" {
			id, _ = strconv.ParseInt(arg, 10, 64)
		}
		want[word] = false
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	child.Wait()

	// A new process: the same database, a reachable relay.
	ts := startServer(t, serverOptions{})
	o := NewOutbox(openDB(t, dbPath), NewSMTP(ts.config(), discardLogger()), discardLogger(), time.Now)
	before := item(t, o, id)
	if mode == "sending" && before.State != StateSending {
		t.Fatalf("after the kill the message is %s, want sending", before.State)
	}
	if mode == "queued" && before.State == StateSent {
		t.Fatalf("the message was sent by the child, which had no relay")
	}
	runOutbox(t, o)
	waitFor(t, "delivery after restart", func() bool { return ts.countMessageID(t, before.MessageID) >= 1 })

	// The worker handles messages one at a time in order: once a message queued after the restart
	// is delivered, the worker has finished with the first one, so its count is final.
	sentinel, err := o.Enqueue(context.Background(), annaEnv, testRaw(t, "Sentinella"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sentinel delivery", func() bool { return item(t, o, sentinel).State == StateSent })
	if n := ts.countMessageID(t, before.MessageID); n != 1 {
		t.Errorf("the message was delivered %d times after the restart, want exactly once", n)
	}
	after := item(t, o, id)
	if after.State != StateSent || after.MessageID != before.MessageID {
		t.Errorf("after restart: %+v, want sent with Message-ID %s", after, before.MessageID)
	}
	stats, _ := o.Stats(context.Background())
	if stats[StateSent] != 2 || stats[StateQueued]+stats[StateSending]+stats[StateFailed] != 0 {
		t.Errorf("stats = %v", stats)
	}
}
