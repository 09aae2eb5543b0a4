package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/helpdesk/internal/imaptest"
	"github.com/rocca-pa/rocca/helpdesk/mailin"
)

// benchSize reads a size from the environment (so a quick run can use less), with a default.
func benchSize(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkIngest measures Ingest alone (parse, route, store, acknowledge) on a database file.
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, nil)
	raws := make([][]byte, b.N)
	for i := range raws {
		raws[i] = crashMail(i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.svc.Ingest(context.Background(), raws[i], MailboxRef{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkIMAPBacklog measures the ingest of a backlog (ROCCA_BENCH_BACKLOG, 10,000 by default)
// from Dovecot: fetch, store, move, one round from an empty database. Goal ≥ 500 messages/s.
func BenchmarkIMAPBacklog(b *testing.B) {
	n := benchSize("ROCCA_BENCH_BACKLOG", 10_000)
	var rate float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := imaptest.Start(b)
		raws := make([][]byte, n)
		for j := range raws {
			raws[j] = crashMail(j)
		}
		d.Append("INBOX", raws)
		e := newEnv(b, nil)
		s := mailin.NewSyncer(mailin.IMAPConfig{Host: "127.0.0.1", Port: d.Port, Security: mailin.SecurityNone,
			User: d.User, PasswordFile: d.PasswordFile, Folder: "INBOX", ProcessedFolder: "Rocca/Elaborati", Batch: 200},
			e.svc, testLogger(), nil)
		b.StartTimer()
		start := time.Now()
		if err := s.SyncOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
		rate = float64(n) / time.Since(start).Seconds()
		b.StopTimer()
		if got := e.count(`SELECT count(*) FROM helpdesk_mails`); got != n {
			b.Fatalf("%d of %d stored", got, n)
		}
		d.Stop()
	}
	b.ReportMetric(rate, "msgs/s")
}

// BenchmarkIDLELatency measures the time from delivery (doveadm save into Dovecot, as an MDA) to the ticket
// in the database, with the syncer idling; Dovecot itself delays IDLE notices by about 0.5 s.
// It reports p50, p95 and p99 over ROCCA_BENCH_DELIVERIES deliveries (40 by default). Goal p95 ≤ 2 s.
func BenchmarkIDLELatency(b *testing.B) {
	n := benchSize("ROCCA_BENCH_DELIVERIES", 40)
	d := imaptest.Start(b)
	e := newEnv(b, nil)
	s := mailin.NewSyncer(mailin.IMAPConfig{Host: "127.0.0.1", Port: d.Port, Security: mailin.SecurityNone,
		User: d.User, PasswordFile: d.PasswordFile, Folder: "INBOX", ProcessedFolder: "Rocca/Elaborati",
		PollInterval: time.Hour}, e.svc, testLogger(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for s.LastSync().IsZero() {
		time.Sleep(5 * time.Millisecond)
	}
	var lat []time.Duration
	seq := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for range n {
			seq++
			start := time.Now()
			d.Save("INBOX", crashMail(seq*replyEvery)) // as a delivery agent does; never a reply
			for e.count(`SELECT count(*) FROM helpdesk_mails`) < seq {
				time.Sleep(2 * time.Millisecond)
				if time.Since(start) > time.Minute {
					b.Fatalf("delivery %d not ingested within a minute", seq)
				}
			}
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Milliseconds()) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkSearch measures a full-text search over ROCCA_BENCH_TICKETS tickets (100,000 by
// default), each with two messages. Goal p95 ≤ 50 ms; ns/op is the mean.
func BenchmarkSearch(b *testing.B) {
	n := benchSize("ROCCA_BENCH_TICKETS", 100_000)
	e := newEnv(b, nil)
	fillTickets(b, e, n)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	queries := []string{"perche stampante", "citta", "toner nero", "vpn", "password scaduta", "ticket 4242"}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := e.svc.Queue(context.Background(), agent, Filter{Query: queries[i%len(queries)], Limit: 50}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[int(0.95*float64(len(lat)-1))].Microseconds())/1000, "p95-ms")
}

// fillTickets stores n tickets with two messages each, straight through the SQL of this package
// (Ingest would take minutes for 100,000).
func fillTickets(b *testing.B, e *env, n int) {
	b.Helper()
	words := []string{"stampante", "perché", "città", "toner", "nero", "vpn", "password", "scaduta", "monitor",
		"rete", "wi-fi", "protocollo", "anagrafe", "posta", "certificata", "scanner", "ufficio", "tecnico"}
	ctx := context.Background()
	now := time.Now()
	const perTx = 5000
	for start := 0; start < n; start += perTx {
		err := e.db.WithTx(ctx, func(tx *sql.Tx) error {
			for i := start; i < min(n, start+perTx); i++ {
				w := func(k int) string { return words[(i*7+k*13)%len(words)] }
				t := &Ticket{Subject: fmt.Sprintf("%s %s %s %d", w(0), w(1), w(2), i), RequesterEmail: fmt.Sprintf("u%d@comune.example.it", i%300),
					Status: StatusNew, Priority: PriorityNormal, Source: "mail", CreatedAt: now, UpdatedAt: now, DueAt: now}
				if err := insertTicket(ctx, tx, t); err != nil {
					return err
				}
				for k := range 2 {
					m := &Message{Ticket: t.Number, Kind: KindInbound, MessageID: fmt.Sprintf("fill-%d-%d@x", i, k),
						Text: fmt.Sprintf("Buongiorno, %s %s non funziona, %s %s. Ticket %d.", w(k+3), w(k+4), w(k+5), w(k+6), i), CreatedAt: now}
					subject := ""
					if k == 0 {
						subject = t.Subject
					}
					if err := insertMessage(ctx, tx, m, subject); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
