package helpdesk

import (
	"fmt"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// requestCreate is POST /requests: a new request from the web form.
func (s *Service) requestCreate(w http.ResponseWriter, r *http.Request) {
	files, err := readForm(w, r)
	form := requestForm{Subject: r.PostFormValue("subject"), Text: r.PostFormValue("text")}
	var t *Ticket
	if err == nil {
		t, err = s.CreateRequest(r.Context(), rocca.UserFromContext(r.Context()), form.Subject, form.Text, files)
	}
	if err != nil {
		form.Error = s.message(r, err)
		s.render.Render(w, r, formStatus(err), "request_new", form)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/requests/%d?done=created", t.Number), http.StatusSeeOther)
}
