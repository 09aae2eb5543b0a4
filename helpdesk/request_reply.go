package helpdesk

import (
	"fmt"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// requestReply is POST /requests/{n}/reply: the requester answers from the portal.
func (s *Service) requestReply(w http.ResponseWriter, r *http.Request) {
	n, err := pathInt(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	files, err := readForm(w, r)
	text := r.PostFormValue("text")
	target := n
	if err == nil {
		target, err = s.RequesterReply(r.Context(), rocca.UserFromContext(r.Context()), n, text, files)
	}
	if err != nil {
		s.renderRequest(w, r, formStatus(err), requestData{Text: text, Error: s.message(r, err)})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/requests/%d?done=reply", target), http.StatusSeeOther)
}
