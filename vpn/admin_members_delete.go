package vpn

import "net/http"

// adminMembersDelete takes a user out of a group.
func (s *Service) adminMembersDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var uid int64
	if err == nil {
		uid, err = pathID(r, "uid")
	}
	if err == nil {
		err = s.RemoveMember(r.Context(), id, uid)
	}
	s.groupsDone(w, r, err, groupsData{})
}
