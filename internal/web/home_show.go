package web

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

type homeData struct {
	Links []HomeLink
}

// homeShow is GET /: the parts the signed-in user may use.
func (s *Server) homeShow(w http.ResponseWriter, r *http.Request) {
	u := rocca.UserFromContext(r.Context())
	if u == nil {
		http.Redirect(w, r, "/login?next=/", http.StatusSeeOther)
		return
	}
	s.render.Render(w, r, http.StatusOK, "home", homeData{Links: visibleLinks(s.homeLinks(), u)})
}
