package vpn

import "net/http"

// adminDestinationsDelete takes a destination away from a group.
func (s *Service) adminDestinationsDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var did int64
	if err == nil {
		did, err = pathID(r, "did")
	}
	if err == nil {
		err = s.RemoveDestination(r.Context(), id, did)
	}
	s.groupsDone(w, r, err, groupsData{})
}
