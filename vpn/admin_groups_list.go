package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// groupsData is the dot's Data of vpn_admin_groups.html.
type groupsData struct {
	Groups   []groupView
	Users    []*rocca.User // enabled users, for the member forms
	Default  []string      // what users in no group reach
	Notice   string
	Error    string
	FormName string
}

type groupView struct {
	*Group
	People []*rocca.User
}

// adminGroupsList shows the groups with their destinations and members.
func (s *Service) adminGroupsList(w http.ResponseWriter, r *http.Request) {
	d := groupsData{}
	if done := r.URL.Query().Get("done"); done != "" {
		d.Notice = s.cat.T(web.Lang(r), "vpn.groups.done")
	}
	s.renderGroups(w, r, http.StatusOK, d)
}

func (s *Service) renderGroups(w http.ResponseWriter, r *http.Request, status int, d groupsData) {
	groups, err := s.Groups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.userMap(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	set, err := s.Settings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, g := range groups {
		v := groupView{Group: g}
		for _, id := range g.Members {
			if u := users[id]; u != nil {
				v.People = append(v.People, u)
			}
		}
		d.Groups = append(d.Groups, v)
	}
	list, err := s.users.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, u := range list {
		if !u.Disabled {
			d.Users = append(d.Users, u)
		}
	}
	for _, p := range s.presetDestinations(set) {
		d.Default = append(d.Default, p.String())
	}
	s.render.Render(w, r, status, "vpn_admin_groups", d)
}

// groupsDone redirects back to the list after a change, or shows the list with the error.
func (s *Service) groupsDone(w http.ResponseWriter, r *http.Request, err error, d groupsData) {
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/vpn/groups?done=1", http.StatusSeeOther)
	case rocca.ErrorCodeOf(err) == rocca.EINTERNAL:
		s.fail(w, r, err)
	default:
		d.Error = s.message(r, err)
		s.renderGroups(w, r, formStatus(err), d)
	}
}
