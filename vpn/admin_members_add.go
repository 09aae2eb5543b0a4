package vpn

import "net/http"

// adminMembersAdd puts a user into a group.
func (s *Service) adminMembersAdd(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = r.ParseForm()
	}
	if err == nil {
		err = s.AddMember(r.Context(), id, r.PostForm.Get("email"))
	}
	s.groupsDone(w, r, err, groupsData{})
}
