package vpn

import "net/http"

// logData is the dot's Data of vpn_admin_log.html.
type logData struct {
	Entries []Connection
	Days    int
}

// adminLogList shows the newest entries of the connection log.
func (s *Service) adminLogList(w http.ResponseWriter, r *http.Request) {
	list, err := s.Connections(r.Context(), 0, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	set, err := s.Settings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render.Render(w, r, http.StatusOK, "vpn_admin_log", logData{Entries: list, Days: set.LogDays})
}
