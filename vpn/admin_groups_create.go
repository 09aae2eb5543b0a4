package vpn

import "net/http"

// adminGroupsCreate adds a group.
func (s *Service) adminGroupsCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PostForm.Get("name")
	_, err := s.CreateGroup(r.Context(), name)
	s.groupsDone(w, r, err, groupsData{FormName: name})
}
