package helpdesk

import (
	"context"
	"fmt"
)

// Stats are the helpdesk's counts for metrics and the admin: tickets by status, overdue active
// tickets, mail waiting in the quarantine, and mail handed over by outcome within the retention.
type Stats struct {
	Tickets    map[Status]int `json:"tickets"`
	Overdue    int            `json:"overdue"`
	Quarantine int            `json:"quarantine"`
	Ingested   map[string]int `json:"ingested"` // by outcome, over the ingest log's retention
}

// Stats counts what Stats describes.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Tickets: map[Status]int{}, Ingested: map[string]int{}}
	for _, k := range Statuses() {
		st.Tickets[k] = 0
	}
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM helpdesk_tickets GROUP BY status`)
	if err != nil {
		return st, fmt.Errorf("helpdesk stats: %w", err)
	}
	for rows.Next() {
		var k Status
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			rows.Close()
			return st, fmt.Errorf("helpdesk stats: %w", err)
		}
		st.Tickets[k] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("helpdesk stats: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM helpdesk_tickets WHERE status IN ('new', 'open') AND due_at < ?),
		(SELECT count(*) FROM helpdesk_mails WHERE outcome IN ('quarantine', 'held'))`, unix(s.now())).
		Scan(&st.Overdue, &st.Quarantine)
	if err != nil {
		return st, fmt.Errorf("helpdesk stats: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT outcome, count(*) FROM helpdesk_ingest_log GROUP BY outcome`)
	if err != nil {
		return st, fmt.Errorf("helpdesk stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return st, fmt.Errorf("helpdesk stats: %w", err)
		}
		st.Ingested[k] = n
	}
	return st, rows.Err()
}
