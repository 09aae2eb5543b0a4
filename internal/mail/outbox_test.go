package mail

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

var annaEnv = Envelope{From: "helpdesk@comune.example.it", To: []string{"anna@comune.example.it"}}

func TestOutboxDeliver(t *testing.T) {
	ts := startServer(t, serverOptions{})
	clock := newClock()
	o := NewOutbox(openDB(t, ""), NewSMTP(ts.config(), discardLogger()), discardLogger(), clock.Now)
	runOutbox(t, o)
	raw := testRaw(t, "Richiesta n. 7")
	id, err := o.Enqueue(context.Background(), annaEnv, raw)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery", func() bool { return item(t, o, id).State == StateSent })
	got := ts.received()
	if len(got) != 1 || !bytes.Equal(got[0].Data, raw) {
		t.Fatalf("received = %+v", got)
	}
	it := item(t, o, id)
	if it.Attempts != 1 || !it.SentAt.Equal(clock.Now()) || it.Subject != "Richiesta n. 7" ||
		it.MessageID != messageIDOf(t, raw) || it.From != annaEnv.From || it.LastError != "" {
		t.Errorf("item = %+v", it)
	}
	stats, err := o.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats[StateSent] != 1 || stats[StateQueued] != 0 || stats[StateFailed] != 0 || stats[StateSending] != 0 {
		t.Errorf("stats = %v", stats)
	}
}

func TestOutboxNullSender(t *testing.T) {
	ts := startServer(t, serverOptions{})
	o := NewOutbox(openDB(t, ""), NewSMTP(ts.config(), discardLogger()), discardLogger(), newClock().Now)
	runOutbox(t, o)
	id, err := o.Enqueue(context.Background(), Envelope{From: "", To: []string{"anna@comune.example.it"}}, testRaw(t, "Risposta automatica"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery", func() bool { return item(t, o, id).State == StateSent })
	if !strings.Contains(ts.debugLog(), "MAIL FROM:<>") {
		t.Errorf("no MAIL FROM:<> in the session:\n%s", ts.debugLog())
	}
}

func TestOutboxAddsMissingMessageID(t *testing.T) {
	ts := startServer(t, serverOptions{})
	o := NewOutbox(openDB(t, ""), NewSMTP(ts.config(), discardLogger()), discardLogger(), newClock().Now)
	runOutbox(t, o)
	raw := []byte("From: Helpdesk <helpdesk@comune.example.it>\r\nTo: anna@comune.example.it\r\nSubject: senza id\r\n\r\nciao\r\n")
	id, err := o.Enqueue(context.Background(), annaEnv, raw)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery", func() bool { return item(t, o, id).State == StateSent })
	it := item(t, o, id)
	if !strings.HasSuffix(it.MessageID, "@comune.example.it") {
		t.Errorf("Message-ID = %q", it.MessageID)
	}
	if got := ts.received(); len(got) != 1 || messageIDOf(t, got[0].Data) != it.MessageID {
		t.Errorf("the delivered message does not carry the stored Message-ID %q", it.MessageID)
	}
}

func TestOutboxTemporaryFailureBacksOff(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.setDataReply(errTemp)
	clock := newClock()
	o := NewOutbox(openDB(t, ""), NewSMTP(ts.config(), discardLogger()), discardLogger(), clock.Now)
	runOutbox(t, o)
	start := clock.Now()
	id, err := o.Enqueue(context.Background(), annaEnv, testRaw(t, "Riprova"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first failed attempt", func() bool { it := item(t, o, id); return it.Attempts == 1 && it.State == StateQueued })
	it := item(t, o, id)
	if wait := it.NextAttemptAt.Sub(start); wait < 54*time.Second || wait > 66*time.Second {
		t.Errorf("first retry after %v, want 1m ±10%%", wait)
	}
	if !strings.Contains(it.LastError, "451") {
		t.Errorf("last error = %q, want the relay's 451", it.LastError)
	}

	// Still refusing at the second attempt: the wait doubles.
	clock.Advance(it.NextAttemptAt.Sub(clock.Now()))
	o.Wake()
	waitFor(t, "second failed attempt", func() bool { it := item(t, o, id); return it.Attempts == 2 && it.State == StateQueued })
	it = item(t, o, id)
	if wait := it.NextAttemptAt.Sub(clock.Now()); wait < 108*time.Second || wait > 132*time.Second {
		t.Errorf("second retry after %v, want 2m ±10%%", wait)
	}

	ts.setDataReply(nil)
	clock.Advance(it.NextAttemptAt.Sub(clock.Now()))
	o.Wake()
	waitFor(t, "delivery", func() bool { return item(t, o, id).State == StateSent })
	if it := item(t, o, id); it.Attempts != 3 {
		t.Errorf("attempts = %d, want 3", it.Attempts)
	}
	if n := len(ts.received()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		for range 50 {
			got := backoff(i + 1)
			lo, hi := w-w/10, min(w+w/10, maxRetry)
			if got < lo || got > hi {
				t.Fatalf("backoff(%d) = %v, want %v..%v", i+1, got, lo, hi)
			}
		}
	}
	if got := backoff(1000); got > maxRetry {
		t.Errorf("backoff(1000) = %v, over the cap", got)
	}
}

func TestOutboxPermanentFailureAndRetry(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.setRcptReply("anna@comune.example.it", errPerm)
	clock := newClock()
	o := NewOutbox(openDB(t, ""), NewSMTP(ts.config(), discardLogger()), discardLogger(), clock.Now)
	runOutbox(t, o)
	ctx := context.Background()
	id, err := o.Enqueue(ctx, annaEnv, testRaw(t, "Destinatario sconosciuto"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failure", func() bool { return item(t, o, id).State == StateFailed })
	if it := item(t, o, id); it.Attempts != 1 || !strings.Contains(it.LastError, "550") {
		t.Errorf("item = %+v, want failed at the first attempt with the 550", it)
	}
	failed, err := o.Items(ctx, StateFailed, 10)
	if err != nil || len(failed) != 1 || failed[0].ID != id {
		t.Fatalf("Items(failed) = %+v, %v", failed, err)
	}

	// The admin fixes the address book (here: the relay) and retries by hand.
	ts.setRcptReply("anna@comune.example.it", nil)
	if err := o.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after retry", func() bool { return item(t, o, id).State == StateSent })
	if n := len(ts.received()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}

	// A sent message is not sent again, an unknown one is not found.
	if err := o.Retry(ctx, id); rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
		t.Errorf("Retry(sent) = %v, want conflict", err)
	}
	if err := o.Retry(ctx, id+100); rocca.ErrorCodeOf(err) != rocca.ENOTFOUND {
		t.Errorf("Retry(unknown) = %v, want not found", err)
	}
	if _, err := o.Items(ctx, "lost", 10); rocca.ErrorCodeOf(err) != rocca.EINVALID {
		t.Errorf("Items(bad state) = %v, want invalid", err)
	}
}

func TestOutboxGivesUpAfterThreeDays(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.setDataReply(errTemp)
	clock := newClock()
	o := NewOutbox(openDB(t, ""), NewSMTP(ts.config(), discardLogger()), discardLogger(), clock.Now)
	runOutbox(t, o)
	ctx := context.Background()
	id, err := o.Enqueue(ctx, annaEnv, testRaw(t, "Relay guasto"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first failed attempt", func() bool { return item(t, o, id).Attempts == 1 })
	clock.Advance(GiveUpAfter)
	o.Wake()
	waitFor(t, "giving up", func() bool { return item(t, o, id).State == StateFailed })
	if it := item(t, o, id); it.Attempts != 2 || !strings.Contains(it.LastError, "gave up") {
		t.Errorf("item = %+v", it)
	}

	// A retry by hand starts afresh: a new three-day period and backoff from one minute, so a
	// temporary failure does not fail it at once.
	if err := o.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "attempt after the retry", func() bool { it := item(t, o, id); return it.Attempts == 1 && it.State != StateSending })
	if it := item(t, o, id); it.State != StateQueued || it.NextAttemptAt.Sub(clock.Now()) > 66*time.Second {
		t.Errorf("after a retry and a temporary failure: %+v, want queued for a minute", it)
	}
	ts.setDataReply(nil)
	clock.Advance(2 * time.Minute)
	o.Wake()
	waitFor(t, "delivery", func() bool { return item(t, o, id).State == StateSent })
}

func TestOutboxEnqueueTx(t *testing.T) {
	ts := startServer(t, serverOptions{})
	db := openDB(t, "")
	o := NewOutbox(db, NewSMTP(ts.config(), discardLogger()), discardLogger(), newClock().Now)
	runOutbox(t, o)
	ctx := context.Background()
	boom := errors.New("the ticket reply could not be saved")
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := o.EnqueueTx(ctx, tx, annaEnv, testRaw(t, "Annullato")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var id int64
	err = db.WithTx(ctx, func(tx *sql.Tx) error {
		id, err = o.EnqueueTx(ctx, tx, annaEnv, testRaw(t, "Confermato"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	o.Wake()
	waitFor(t, "delivery", func() bool { return item(t, o, id).State == StateSent })
	items, _ := o.Items(ctx, "", 0)
	if len(items) != 1 || items[0].Subject != "Confermato" {
		t.Fatalf("items = %+v: the rolled back message must not exist", items)
	}
	if got := ts.received(); len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
}

func TestOutboxEnqueueRejects(t *testing.T) {
	o := NewOutbox(openDB(t, ""), nil, discardLogger(), newClock().Now)
	ctx := context.Background()
	raw := testRaw(t, "x")
	for name, c := range map[string]struct {
		env  Envelope
		raw  []byte
		code rocca.ErrorCode
	}{
		"no recipients":     {Envelope{From: "a@b.example"}, raw, rocca.EINVALID},
		"name in recipient": {Envelope{To: []string{"Anna <anna@b.example>"}}, raw, rocca.EINVALID},
		"bad sender":        {Envelope{From: "nobody", To: []string{"anna@b.example"}}, raw, rocca.EINVALID},
		"line break":        {Envelope{To: []string{"anna@b.example\r\nRCPT TO:<x@y.example>"}}, raw, rocca.EINVALID},
		"not a message":     {annaEnv, []byte("no header here"), rocca.EINVALID},
		"too large":         {annaEnv, append(bytes.Repeat([]byte("x"), MaxMessageSize), raw...), rocca.ETOOLARGE},
	} {
		if _, err := o.Enqueue(ctx, c.env, c.raw); rocca.ErrorCodeOf(err) != c.code {
			t.Errorf("%s: err = %v, want %s", name, err, c.code)
		}
	}
	if items, _ := o.Items(ctx, "", 0); len(items) != 0 {
		t.Errorf("rejected messages were stored: %+v", items)
	}
}

func TestOutboxRunStopsOnCancel(t *testing.T) {
	o := NewOutbox(openDB(t, ""), nil, discardLogger(), newClock().Now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	waitFor(t, "Run to start", func() bool { return o.running.Load() })
	if err := o.Run(ctx); err == nil {
		t.Error("a second Run was allowed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
}

func TestOutboxPurgeSent(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	o := NewOutbox(openDB(t, ""), nil, discardLogger(), clock.Now)
	old, _ := o.Enqueue(ctx, annaEnv, testRaw(t, "Vecchio"))
	o.markSent(ctx, old, clock.Now(), "")
	failed, _ := o.Enqueue(ctx, annaEnv, testRaw(t, "Non recapitato"))
	o.markFailed(ctx, failed, "550")
	queued, _ := o.Enqueue(ctx, annaEnv, testRaw(t, "In coda"))
	clock.Advance(100 * 24 * time.Hour)
	recent, _ := o.Enqueue(ctx, annaEnv, testRaw(t, "Recente"))
	o.markSent(ctx, recent, clock.Now(), "")

	n, err := o.PurgeSent(ctx, clock.Now().Add(-90*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PurgeSent = %d, %v; want 1", n, err)
	}
	items, _ := o.Items(ctx, "", 0)
	var left []int64
	for _, it := range items {
		left = append(left, it.ID)
	}
	if len(left) != 3 || slices.Contains(left, old) || !slices.Contains(left, failed) || !slices.Contains(left, queued) {
		t.Errorf("left after purge: %v (old %d, failed %d, queued %d)", left, old, failed, queued)
	}
}
