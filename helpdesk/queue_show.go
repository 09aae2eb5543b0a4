package helpdesk

import (
	"net/http"
	"net/url"

	"github.com/rocca-pa/rocca"
)

// queueData is the Data of queue.html.
type queueData struct {
	Tickets []*Ticket
	Query   queueQuery
	Meta    ticketMeta
	Overdue map[int64]bool
}

// queueQuery is the queue's filter as the form shows it.
type queueQuery struct {
	View     string // mine | unassigned | all
	Status   string // a status, "active" (default) or "all"
	Priority string
	Category string
	Q        string
}

// Link returns the queue URL with view set to v and the other filters kept.
func (q queueQuery) Link(v string) string {
	vals := url.Values{}
	vals.Set("view", v)
	for k, x := range map[string]string{"status": q.Status, "priority": q.Priority, "category": q.Category, "q": q.Q} {
		if x != "" {
			vals.Set(k, x)
		}
	}
	return "/helpdesk?" + vals.Encode()
}

// queueShow is GET /helpdesk: the agent queue (mine, unassigned, all; by status, priority,
// category; full-text search).
func (s *Service) queueShow(w http.ResponseWriter, r *http.Request) {
	u := rocca.UserFromContext(r.Context())
	qv := r.URL.Query()
	q := queueQuery{View: qv.Get("view"), Status: qv.Get("status"), Priority: qv.Get("priority"),
		Category: qv.Get("category"), Q: qv.Get("q")}
	if q.View != "mine" && q.View != "unassigned" {
		q.View = "all"
	}
	f := Filter{Query: q.Q, Limit: 200}
	switch q.Status {
	case "", "active":
		q.Status = "active"
		f.Statuses = ActiveStatuses()
	case "all":
	default:
		st, err := ParseStatus(q.Status)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.Statuses = []Status{st}
	}
	if q.Priority != "" {
		p, err := ParsePriority(q.Priority)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.Priority = p
	}
	f.Category = q.Category
	switch q.View {
	case "mine":
		f.AssigneeID = u.ID
	case "unassigned":
		f.Unassigned = true
	}
	list, err := s.Queue(r.Context(), u, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	overdue := map[int64]bool{}
	now := s.now()
	for _, t := range list {
		overdue[t.Number] = t.Overdue(now)
	}
	s.render.Render(w, r, http.StatusOK, "queue", queueData{Tickets: list, Query: q, Meta: s.meta(), Overdue: overdue})
}
