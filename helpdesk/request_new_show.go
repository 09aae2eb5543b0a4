package helpdesk

import "net/http"

// requestForm is the Data of request_new.html.
type requestForm struct {
	Subject string
	Text    string
	Error   string
}

// requestNewShow is GET /requests/new: the form for a new request.
func (s *Service) requestNewShow(w http.ResponseWriter, r *http.Request) {
	s.render.Render(w, r, http.StatusOK, "request_new", requestForm{})
}
