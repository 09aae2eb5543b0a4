package mail

import (
	"net/http"
	"net/url"
)

// accountDisconnect is POST /admin/mail/{name}/disconnect: the stored sign-in is forgotten.
func (s *Accounts) accountDisconnect(w http.ResponseWriter, r *http.Request) {
	pages := s.renderer(w)
	if pages == nil {
		return
	}
	name := r.PathValue("name")
	if err := s.Disconnect(r.Context(), name); err != nil {
		pages.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/mail?disconnected="+url.QueryEscape(name), http.StatusSeeOther)
}
