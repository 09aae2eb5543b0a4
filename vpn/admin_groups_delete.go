package vpn

import "net/http"

// adminGroupsDelete removes a group; its members get the default access.
func (s *Service) adminGroupsDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.DeleteGroup(r.Context(), id)
	}
	s.groupsDone(w, r, err, groupsData{})
}
