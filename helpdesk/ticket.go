package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// Status is where a ticket stands.
type Status string

// The statuses, in their life order. Italian names: nuovo, aperto, in attesa, risolto, chiuso.
const (
	StatusNew      Status = "new"      // nuovo: nobody has answered yet
	StatusOpen     Status = "open"     // aperto: being worked on
	StatusWaiting  Status = "waiting"  // in attesa: waiting for the requester
	StatusResolved Status = "resolved" // risolto: solved; an answer opens it again
	StatusClosed   Status = "closed"   // chiuso: done; an answer reopens it or opens a linked ticket
)

// Statuses lists every status in display order.
func Statuses() []Status {
	return []Status{StatusNew, StatusOpen, StatusWaiting, StatusResolved, StatusClosed}
}

// ActiveStatuses are the statuses of tickets that still need work.
func ActiveStatuses() []Status { return []Status{StatusNew, StatusOpen, StatusWaiting} }

// ParseStatus accepts the English code or the Italian word ("in attesa", "in_attesa", "chiuso"…).
func ParseStatus(s string) (Status, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch strings.ReplaceAll(strings.ReplaceAll(v, "_", " "), "-", " ") {
	case "new", "nuovo":
		return StatusNew, nil
	case "open", "aperto":
		return StatusOpen, nil
	case "waiting", "in attesa", "attesa":
		return StatusWaiting, nil
	case "resolved", "risolto":
		return StatusResolved, nil
	case "closed", "chiuso":
		return StatusClosed, nil
	}
	return "", rocca.Localized(rocca.EINVALID, "helpdesk.error.status", "unknown status "+s+": use nuovo, aperto, in attesa, risolto or chiuso", s)
}

// Priority orders the queue and sets the due time.
type Priority string

// The priorities (bassa, normale, alta, urgente).
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority, lowest first.
func Priorities() []Priority {
	return []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}
}

// ParsePriority accepts the English code or the Italian word.
func ParsePriority(s string) (Priority, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low", "bassa":
		return PriorityLow, nil
	case "normal", "normale":
		return PriorityNormal, nil
	case "high", "alta":
		return PriorityHigh, nil
	case "urgent", "urgente":
		return PriorityUrgent, nil
	}
	return "", rocca.Localized(rocca.EINVALID, "helpdesk.error.priority", "unknown priority "+s+": use bassa, normale, alta or urgente", s)
}

// Ticket is one request.
type Ticket struct {
	Number          int64     `json:"number"`
	Subject         string    `json:"subject"`
	RequesterID     int64     `json:"requester_id,omitempty"`
	RequesterEmail  string    `json:"requester_email"`
	RequesterName   string    `json:"requester_name,omitempty"`
	External        bool      `json:"external"`
	Status          Status    `json:"status"`
	Priority        Priority  `json:"priority"`
	Category        string    `json:"category,omitempty"`
	AssigneeID      int64     `json:"assignee_id,omitempty"`
	AssigneeName    string    `json:"assignee_name,omitempty"` // filled in from Users for display
	Source          string    `json:"source"`                  // mail | web
	LinkedID        int64     `json:"linked_ticket,omitempty"` // the closed ticket this one follows
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	DueAt           time.Time `json:"due_at"`
	FirstResponseAt time.Time `json:"first_response_at,omitzero"`
	ResolvedAt      time.Time `json:"resolved_at,omitzero"`
	ClosedAt        time.Time `json:"closed_at,omitzero"`
}

// Overdue reports whether the ticket still needs work past its due time.
func (t *Ticket) Overdue(now time.Time) bool {
	return (t.Status == StatusNew || t.Status == StatusOpen) && now.After(t.DueAt)
}

// Active reports whether the ticket still needs work.
func (t *Ticket) Active() bool {
	return t.Status == StatusNew || t.Status == StatusOpen || t.Status == StatusWaiting
}

var ticketFields = []string{"id", "subject", "requester_id", "requester_email", "requester_name", "external",
	"status", "priority", "category", "assignee_id", "source", "linked_id", "created_at", "updated_at", "due_at",
	"first_response_at", "resolved_at", "closed_at"}

var ticketColumns = strings.Join(ticketFields, ", ")

// ticketColumnsOf is ticketColumns qualified with a table alias.
func ticketColumnsOf(alias string) string {
	return alias + "." + strings.Join(ticketFields, ", "+alias+".")
}

func scanTicket(row interface{ Scan(...any) error }) (*Ticket, error) {
	var t Ticket
	var requester, assignee, linked, first, resolved, closed sql.NullInt64
	var created, updated, due int64
	err := row.Scan(&t.Number, &t.Subject, &requester, &t.RequesterEmail, &t.RequesterName, &t.External,
		&t.Status, &t.Priority, &t.Category, &assignee, &t.Source, &linked, &created, &updated, &due,
		&first, &resolved, &closed)
	if err != nil {
		return nil, err
	}
	t.RequesterID, t.AssigneeID, t.LinkedID = requester.Int64, assignee.Int64, linked.Int64
	t.CreatedAt, t.UpdatedAt, t.DueAt = fromUnix(created), fromUnix(updated), fromUnix(due)
	t.FirstResponseAt, t.ResolvedAt, t.ClosedAt = fromNullUnix(first), fromNullUnix(resolved), fromNullUnix(closed)
	return &t, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id > 0} }

// insertTicket stores a new ticket and sets its Number.
func insertTicket(ctx context.Context, q queryer, t *Ticket) error {
	res, err := q.ExecContext(ctx, `INSERT INTO helpdesk_tickets (subject, requester_id, requester_email,
		requester_name, external, status, priority, category, assignee_id, source, linked_id, created_at,
		updated_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Subject, nullID(t.RequesterID), t.RequesterEmail, t.RequesterName, t.External, t.Status,
		t.Priority, t.Category, nullID(t.AssigneeID), t.Source, nullID(t.LinkedID), unix(t.CreatedAt),
		unix(t.UpdatedAt), unix(t.DueAt))
	if err != nil {
		return fmt.Errorf("create ticket: %w", err)
	}
	t.Number, err = res.LastInsertId()
	return err
}

// ticketByNumber returns the ticket or ENOTFOUND.
func ticketByNumber(ctx context.Context, q queryer, n int64) (*Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM helpdesk_tickets WHERE id = ?`, n))
	if err != nil {
		if err == sql.ErrNoRows {
			return nil, rocca.Localized(rocca.ENOTFOUND, "helpdesk.error.no_ticket", fmt.Sprintf("ticket %d not found", n), n)
		}
		return nil, sqlite.NotFound(err, "ticket")
	}
	return t, nil
}

// setStatus changes the status and its timestamps: resolved_at is set on resolving and kept on
// closing; both are cleared when the ticket becomes active again.
func setStatus(ctx context.Context, q queryer, n int64, st Status, now time.Time) error {
	set := `resolved_at = NULL, closed_at = NULL`
	switch st {
	case StatusResolved:
		set = `resolved_at = :now, closed_at = NULL`
	case StatusClosed:
		set = `resolved_at = coalesce(resolved_at, :now), closed_at = :now`
	}
	_, err := q.ExecContext(ctx, `UPDATE helpdesk_tickets SET status = :st, updated_at = :now, `+set+` WHERE id = :id`,
		sql.Named("st", st), sql.Named("now", unix(now)), sql.Named("id", n))
	if err != nil {
		return fmt.Errorf("set ticket status: %w", err)
	}
	return nil
}

// touchTicket records activity.
func touchTicket(ctx context.Context, q queryer, n int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE helpdesk_tickets SET updated_at = ? WHERE id = ?`, unix(now), n)
	if err != nil {
		return fmt.Errorf("update ticket: %w", err)
	}
	return nil
}

// Filter selects tickets for a list. Zero fields do not filter.
type Filter struct {
	Statuses       []Status
	Priority       Priority
	Category       string
	AssigneeID     int64 // tickets of this agent
	Unassigned     bool
	RequesterID    int64  // with RequesterEmail: tickets of this person (either matches)
	RequesterEmail string //
	Query          string // full-text search
	Limit          int    // 100 when zero
	Offset         int
}

// searchWindow is how many of the newest matching messages a search looks at first: FTS5 walks
// its index backwards and stops there, so a word found in half the messages costs no more than a
// rare one. Only when that window is full and yields too few tickets does the search look at
// every match.
const searchWindow = 2000

// listTickets returns the tickets matching f: most recently updated first, or, with a search
// query, those with the most recent matching message first.
func listTickets(ctx context.Context, q queryer, f Filter) ([]*Ticket, error) {
	where, args := ticketFilter(f)
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if f.Query == "" {
		query := `SELECT ` + ticketColumnsOf("t") + ` FROM helpdesk_tickets t` + where +
			` ORDER BY t.updated_at DESC, t.id DESC LIMIT ? OFFSET ?`
		return queryTickets(ctx, q, query, append(args, limit, max(0, f.Offset))...)
	}
	match := matchQuery(f.Query)
	if match == "" {
		return nil, nil
	}
	search := func(window int) ([]*Ticket, error) {
		inner := `SELECT rowid AS mid FROM helpdesk_fts WHERE helpdesk_fts MATCH ? ORDER BY rowid DESC`
		iargs := []any{match}
		if window > 0 {
			inner += ` LIMIT ?`
			iargs = append(iargs, window)
		}
		query := `SELECT ` + ticketColumnsOf("t") + ` FROM (` + inner + `) f
			JOIN helpdesk_messages m ON m.id = f.mid JOIN helpdesk_tickets t ON t.id = m.ticket_id` + where +
			` GROUP BY t.id ORDER BY max(f.mid) DESC LIMIT ? OFFSET ?`
		all := append(append(iargs, args...), limit, max(0, f.Offset))
		return queryTickets(ctx, q, query, all...)
	}
	list, err := search(searchWindow)
	if err != nil || len(list) >= limit {
		return list, err
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT rowid FROM helpdesk_fts WHERE helpdesk_fts MATCH ? LIMIT ?)`,
		match, searchWindow).Scan(&n); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if n < searchWindow {
		return list, nil // the window held every match
	}
	return search(0)
}

// ticketFilter turns f (but its query) into a WHERE clause over helpdesk_tickets t.
func ticketFilter(f Filter) (string, []any) {
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		marks := strings.Repeat("?, ", len(f.Statuses))
		where = append(where, "t.status IN ("+marks[:len(marks)-2]+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	if f.Priority != "" {
		where, args = append(where, "t.priority = ?"), append(args, f.Priority)
	}
	if f.Category != "" {
		where, args = append(where, "t.category = ?"), append(args, f.Category)
	}
	if f.AssigneeID > 0 {
		where, args = append(where, "t.assignee_id = ?"), append(args, f.AssigneeID)
	}
	if f.Unassigned {
		where = append(where, "t.assignee_id IS NULL")
	}
	if f.RequesterID > 0 || f.RequesterEmail != "" {
		where = append(where, "(t.requester_id = ? OR t.requester_email = ? COLLATE NOCASE)")
		args = append(args, f.RequesterID, f.RequesterEmail)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

func queryTickets(ctx context.Context, q queryer, query string, args ...any) ([]*Ticket, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	var out []*Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("list tickets: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return out, nil
}
