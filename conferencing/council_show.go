package conferencing

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
)

// councilPage is the data of pages/council.html: the setup of a council session.
type councilPage struct {
	Meeting  *Meeting
	Council  *Council // nil before the first save
	Users    []councilUser
	Form     councilForm
	ReadOnly bool // the session was opened: its setup can no longer change
	Saved    bool
	Error    string
}

// councilUser is one account the assembly can be chosen from, with its row of the form.
type councilUser struct {
	ID         int64
	Name       string
	Email      string
	Councillor bool
	Seat       string // the seat number typed, "" = not in the assembly
	Counts     bool   // counts for the quorum
}

type councilForm struct {
	Chair, Secretary     int64
	Agenda               string // one item per line
	Quorum, QuorumN      string
	Public, RecordClosed bool
}

// councilShow is GET /meetings/{id}/council: staff set up the council session of a council
// meeting (the President, the Secretary, the seats, the agenda, the quorum rule, public or not).
func (s *Service) councilShow(w http.ResponseWriter, r *http.Request) {
	p, err := s.councilPageFor(r)
	if err != nil {
		s.pages.Error(w, r, err)
		return
	}
	p.Saved = r.URL.Query().Get("saved") == "1"
	s.pages.Render(w, r, http.StatusOK, "council", p)
}

// councilPageFor loads the meeting, checks that the user may set it up, and fills the form from
// the saved setup.
func (s *Service) councilPageFor(r *http.Request) (*councilPage, error) {
	ctx := r.Context()
	m, err := meetingByPublicID(ctx, s.db, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	u := rocca.UserFromContext(ctx)
	if !u.Can(rocca.RoleAdmin) && !(u.Can(rocca.RoleStaff) && s.isHost(m, u)) {
		return nil, rocca.Localized(rocca.EFORBIDDEN, "conf.error.council_setup_forbidden",
			"only the meeting's hosts and the administrators set up its council session")
	}
	if !m.Council {
		return nil, rocca.Localized(rocca.EINVALID, "conf.error.council_not_council", "this meeting is not a council session")
	}
	c, err := councilOf(ctx, s.db, m)
	if err != nil {
		return nil, err
	}
	users, err := s.councilUsers(ctx)
	if err != nil {
		return nil, err
	}
	p := &councilPage{Meeting: m, Council: c, Users: users,
		Form: councilForm{Quorum: string(council.QuorumMajority), Public: true}}
	for i := range p.Users {
		p.Users[i].Counts = true
	}
	if c != nil {
		p.ReadOnly = c.State != CouncilScheduled
		p.Form = councilForm{Chair: c.Chair, Secretary: c.Secretary, Agenda: strings.Join(c.Agenda, "\n"),
			Quorum: string(c.Quorum.Kind), Public: c.Public, RecordClosed: c.RecordClosed}
		if c.Quorum.Kind == council.QuorumCustom {
			p.Form.QuorumN = strconv.Itoa(c.Quorum.N)
		}
		for i := range p.Users {
			if st := c.seatOf(p.Users[i].ID); st != nil {
				p.Users[i].Seat, p.Users[i].Counts = strconv.Itoa(st.Seat), st.CountsForQuorum
			}
		}
	}
	return p, nil
}

// councilUsers lists the enabled accounts, councillors first, then by name.
func (s *Service) councilUsers(ctx context.Context) ([]councilUser, error) {
	dir, ok := s.directory()
	if !ok {
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "conf.error.council_no_directory", "no user directory to set up a council")
	}
	us, err := dir.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]councilUser, 0, len(us))
	for _, u := range us {
		if u != nil && !u.Disabled {
			out = append(out, councilUser{ID: u.ID, Name: u.Name, Email: u.Email, Councillor: u.Role == rocca.RoleCouncillor})
		}
	}
	slices.SortFunc(out, func(a, b councilUser) int {
		if a.Councillor != b.Councillor {
			if a.Councillor {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}
