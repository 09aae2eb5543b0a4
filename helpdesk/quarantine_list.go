package helpdesk

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// quarantineData is the Data of quarantine.html.
type quarantineData struct {
	Mails   []MailSummary
	Reasons map[int64]string // mail id -> why it is here, in the reader's language
	Done    string
	Error   string
}

// quarantineList is GET /admin/helpdesk/quarantine.
func (s *Service) quarantineList(w http.ResponseWriter, r *http.Request) {
	d := quarantineData{}
	if r.URL.Query().Get("done") == "discarded" {
		d.Done = "helpdesk.quarantine.done_discarded"
	}
	s.renderQuarantine(w, r, http.StatusOK, d)
}

func (s *Service) renderQuarantine(w http.ResponseWriter, r *http.Request, status int, d quarantineData) {
	list, err := s.Quarantine(r.Context(), rocca.UserFromContext(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Mails = list
	d.Reasons = map[int64]string{}
	for _, m := range list {
		if m.Reason != "" {
			d.Reasons[m.ID] = s.cat.T(web.Lang(r), m.Reason, m.ReasonArgs...)
		}
	}
	s.render.Render(w, r, status, "quarantine", d)
}
