package vpn

import "net/http"

// adminDestinationsAdd lets a group reach a network (optionally one protocol and port).
func (s *Service) adminDestinationsAdd(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = r.ParseForm()
	}
	if err == nil {
		var d Destination
		if d, err = ParseDestination(r.PostForm.Get("network"), r.PostForm.Get("port")); err == nil {
			d.Note = r.PostForm.Get("note")
			err = s.AddDestination(r.Context(), id, d)
		}
	}
	s.groupsDone(w, r, err, groupsData{})
}
