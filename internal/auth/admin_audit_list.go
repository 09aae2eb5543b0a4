package auth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

// auditRow is one entry as the page shows it.
type auditRow struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string
	Detail string
	IP     string
}

// auditData is the dot's Data of admin_audit.html.
type auditData struct {
	Entries []auditRow
	Older   int64 // the "before" of the next page, 0 at the end
	Newest  bool  // this is the first page
}

// adminAuditList shows the audit log, newest first, a page at a time (?before=<id>).
func (s *Service) adminAuditList(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	if before < 0 {
		before = 0
	}
	entries, err := s.AuditLog(r.Context(), auditPageSize, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := auditData{Newest: before == 0}
	for _, e := range entries {
		detail, _ := json.Marshal(e.Detail)
		d.Entries = append(d.Entries, auditRow{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Detail: string(detail), IP: e.IP})
	}
	if len(entries) == auditPageSize {
		d.Older = entries[len(entries)-1].ID
	}
	s.render.Render(w, r, http.StatusOK, "admin_audit", d)
}
