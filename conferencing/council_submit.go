package conferencing

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
	"github.com/rocca-pa/rocca/internal/web"
)

// councilSubmit is POST /meetings/{id}/council: saves the setup and shows it again, or the form
// with what was typed and the first problem.
func (s *Service) councilSubmit(w http.ResponseWriter, r *http.Request) {
	p, err := s.councilPageFor(r)
	if err != nil {
		s.pages.Error(w, r, err)
		return
	}
	setup, err := p.read(r)
	if err == nil {
		if _, err = s.SetCouncil(r.Context(), p.Meeting.PublicID, setup); err == nil {
			http.Redirect(w, r, "/meetings/"+url.PathEscape(p.Meeting.PublicID)+"/council?saved=1", http.StatusSeeOther)
			return
		}
	}
	code := rocca.ErrorCodeOf(err)
	if code == rocca.EINTERNAL {
		s.pages.Error(w, r, err)
		return
	}
	p.Error = s.message(r, err)
	s.pages.Render(w, r, web.StatusOf(code), "council", p)
}

// read fills the form from the request and turns it into a setup. The seats come from the rows
// of the accounts listed: seat_<user id> (a number, or empty) and counts_<user id>.
func (p *councilPage) read(r *http.Request) (CouncilSetup, error) {
	id := func(name string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
		return n
	}
	p.Form = councilForm{Chair: id("chair"), Secretary: id("secretary"), Agenda: r.PostFormValue("agenda"),
		Quorum: r.PostFormValue("quorum"), QuorumN: strings.TrimSpace(r.PostFormValue("quorum_n")),
		Public: r.PostFormValue("public") != "", RecordClosed: r.PostFormValue("record_closed") != ""}
	setup := CouncilSetup{Chair: p.Form.Chair, Secretary: p.Form.Secretary, Agenda: strings.Split(p.Form.Agenda, "\n"),
		Quorum: council.QuorumRule{Kind: council.QuorumKind(p.Form.Quorum)}, Public: p.Form.Public,
		RecordClosed: p.Form.RecordClosed}
	var bad error
	for i := range p.Users {
		u := &p.Users[i]
		key := strconv.FormatInt(u.ID, 10)
		u.Seat = strings.TrimSpace(r.PostFormValue("seat_" + key))
		u.Counts = r.PostFormValue("counts_"+key) != ""
		if u.Seat == "" {
			continue
		}
		n, err := strconv.Atoi(u.Seat)
		if err != nil && bad == nil {
			bad = rocca.Localized(rocca.EINVALID, "conf.error.council_seat_number", "seat number not understood", u.Name)
		}
		setup.Seats = append(setup.Seats, Seat{UserID: u.ID, Seat: n, CountsForQuorum: u.Counts})
	}
	if bad != nil {
		return setup, bad
	}
	if setup.Quorum.Kind == council.QuorumCustom {
		n, err := strconv.Atoi(p.Form.QuorumN)
		if err != nil {
			return setup, rocca.Localized(rocca.EINVALID, "conf.error.council_quorum_n", "the quorum number is not understood")
		}
		setup.Quorum.N = n
	}
	return setup, nil
}
