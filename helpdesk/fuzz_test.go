package helpdesk

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMatchQuery: whatever a person types in the search box becomes a query FTS5 accepts.
func FuzzMatchQuery(f *testing.F) {
	for _, s := range []string{"perche", "perché la città", `"unbalanced`, "a OR b NOT c", "col:val", "x*", "NEAR(a b)", "^start", "-", "{a b}", "'; DROP TABLE x; --", "ＦＵＬＬ　ｗｉｄｔｈ"} {
		f.Add(s)
	}
	e := newEnv(f, nil)
	db := e.db
	if _, err := db.Exec(`INSERT INTO helpdesk_fts (rowid, subject, body) VALUES (1, 'Perché', 'la città è senza rete')`); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		m := matchQuery(q)
		if m == "" {
			return
		}
		if !utf8.ValidString(q) && !utf8.ValidString(m) {
			return // invalid UTF-8 stays invalid; SQLite treats it as bytes
		}
		if strings.Count(m, `"`)%2 != 0 {
			t.Fatalf("unbalanced quotes in %q", m)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM helpdesk_fts WHERE helpdesk_fts MATCH ?`, m).Scan(&n); err != nil && err != sql.ErrNoRows {
			t.Fatalf("query %q from %q: %v", m, q, err)
		}
	})
}

// FuzzIngest: any bytes handed over by the mailbox are stored (as a ticket, a message, an ignored
// or quarantined mail, or a duplicate) without an error and without a panic, so a hostile mail
// can never block the mailbox.
func FuzzIngest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("Subject: [#1] x\r\n\r\nbody"))
	e := newEnv(f, func(c *Config) { c.MaxMessage = 1 << 20 })
	var uid uint32
	f.Fuzz(func(t *testing.T, raw []byte) {
		uid++
		count := func() (n int) {
			if err := e.db.QueryRow(`SELECT count(*) FROM helpdesk_ingest_log`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count()
		if err := e.svc.Ingest(context.Background(), raw, MailboxRef{Mailbox: "INBOX", UIDValidity: 1, UID: uid}); err != nil {
			t.Fatalf("ingest: %v", err)
		}
		if after := count(); after != before+1 {
			t.Fatalf("ingest log grew by %d, want 1", after-before)
		}
	})
}
