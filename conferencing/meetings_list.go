package conferencing

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// listPage is the data of pages/meetings.html.
type listPage struct {
	Meetings  []*Meeting
	CanCreate bool
	Created   *Meeting // just created: its link is shown
	Form      meetingForm
	Error     string
}

type meetingForm struct {
	Title, Start, Duration, Invitees, Passcode string
	Locked, Council                            bool
}

// meetingsList is GET /meetings: the user's meetings and, for staff, the form to schedule one.
func (s *Service) meetingsList(w http.ResponseWriter, r *http.Request) {
	s.renderList(w, r, http.StatusOK, listPage{Form: meetingForm{Duration: "60"}})
}

func (s *Service) renderList(w http.ResponseWriter, r *http.Request, status int, data listPage) {
	u := rocca.UserFromContext(r.Context())
	f := MeetingFilter{Since: s.now()}
	if !u.Can(rocca.RoleAdmin) {
		f.UserID, f.Email = u.ID, u.Email
	}
	ms, err := s.Meetings(r.Context(), f)
	if err != nil {
		s.pages.Error(w, r, err)
		return
	}
	if id := r.URL.Query().Get("created"); id != "" && data.Created == nil {
		for _, m := range ms {
			if m.PublicID == id {
				if data.Created, err = s.Meeting(r.Context(), id); err != nil {
					s.pages.Error(w, r, err)
					return
				}
			}
		}
	}
	data.Meetings, data.CanCreate = ms, u.Can(rocca.RoleStaff)
	s.pages.Render(w, r, status, "meetings", data)
}
