package conferencing

import (
	"bytes"
	"html/template"
	"net/http"
	"os"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
	"github.com/rocca-pa/rocca/internal/web"
)

// minutesPage is the data of pages/council_minutes.html.
type minutesPage struct {
	Meeting *Meeting
	Body    template.HTML
}

// minutesShow is GET /meetings/{id}/verbale (the minutes draft in the page) and
// /meetings/{id}/verbale.odt (the same draft as a document to edit in LibreOffice). Both are
// made from the session's record file, so they say what the record says.
func (s *Service) minutesShow(w http.ResponseWriter, r *http.Request) {
	m, doc, err := s.minutesFor(r)
	if err != nil {
		s.pages.Error(w, r, err)
		return
	}
	if strings.HasSuffix(r.PathValue("action"), ".odt") {
		var b bytes.Buffer
		if err := doc.WriteODT(&b); err != nil {
			s.pages.Error(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oasis.opendocument.text")
		w.Header().Set("Content-Disposition", `attachment; filename="verbale-`+m.PublicID+`.odt"`)
		_, _ = w.Write(b.Bytes())
		return
	}
	body, err := doc.HTMLBody()
	if err != nil {
		s.pages.Error(w, r, err)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "council_minutes", minutesPage{Meeting: m, Body: body})
}

// minutesFor checks that the user may read the minutes (an administrator, a host of the meeting,
// its President or its Secretary) and lays them out from the record.
func (s *Service) minutesFor(r *http.Request) (*Meeting, *council.Document, error) {
	ctx := r.Context()
	m, err := meetingByPublicID(ctx, s.db, r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	c, err := councilOf(ctx, s.db, m)
	if err != nil {
		return nil, nil, err
	}
	u := rocca.UserFromContext(ctx)
	if c == nil || c.RecordFile == "" {
		return nil, nil, rocca.Localized(rocca.ENOTFOUND, "conf.error.minutes_none", "this meeting has no council record yet")
	}
	if u == nil || !(u.Can(rocca.RoleAdmin) || u.ID == c.Chair || u.ID == c.Secretary || (u.Can(rocca.RoleStaff) && s.isHost(m, u))) {
		return nil, nil, rocca.Localized(rocca.EFORBIDDEN, "conf.error.minutes_forbidden",
			"only the President, the Secretary, the meeting's hosts and the administrators read the minutes")
	}
	f, err := os.Open(s.councilPath(c.RecordFile))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	min, err := council.ReadMinutes(f)
	if err != nil {
		return nil, nil, err
	}
	return m, min.Document(s.cat, web.Lang(r)), nil
}
