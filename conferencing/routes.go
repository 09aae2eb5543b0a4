package conferencing

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// Routes mounts the meeting pages, the join endpoint, the signalling WebSocket and the client's
// files. require is auth.Require: require("") lets in any signed-in user. The join page, the join
// endpoint and the WebSocket are open to guests: the unguessable meeting id, the lobby and the
// join token protect them.
func (s *Service) Routes(h interface {
	Handle(pattern string, h http.Handler)
}, require func(rocca.Role) func(http.Handler) http.Handler) {
	f := func(fn http.HandlerFunc) http.Handler { return fn }
	h.Handle("GET /meetings", require("")(f(s.meetingsList)))
	h.Handle("POST /meetings", require(rocca.RoleStaff)(f(s.meetingsCreate)))
	h.Handle("GET /meetings/static/{file}", f(s.staticServe))
	h.Handle("GET /meetings/{id}", hideID(f(s.meetingShow)))
	// One pattern per method for the actions: "/meetings/{id}/ws" and "/meetings/static/{file}"
	// would overlap, which ServeMux refuses.
	staff := func(fn http.HandlerFunc) http.Handler { return require(rocca.RoleStaff)(fn) }
	signedIn := func(fn http.HandlerFunc) http.Handler { return require("")(fn) }
	minutes := orAction("verbale", signedIn(s.minutesShow), orAction("verbale.odt", signedIn(s.minutesShow), f(s.meetingGet)))
	h.Handle("GET /meetings/{id}/{action}", hideID(orAction("council", staff(s.councilShow), minutes)))
	h.Handle("POST /meetings/{id}/{action}", hideID(orAction("council", staff(s.councilSubmit), f(s.meetingPost))))
	s.publicRoutes(h) // /pubblico/{stream}: the public stream, open to everybody
}

// hideID keeps the meeting id, which lets anyone join, out of the access log.
func hideID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := "/meetings/…"
		if a := r.PathValue("action"); a != "" {
			p += "/" + a
		}
		web.LogPath(r, p)
		next.ServeHTTP(w, r)
	})
}

// orAction sends the requests for action name to h, the others to next.
func orAction(name string, h, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("action") == name {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Service) meetingGet(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("action") {
	case "ws":
		s.meetingWS(w, r)
	default:
		s.pages.Error(w, r, rocca.Localized(rocca.ENOTFOUND, "conf.error.meeting_not_found", "not found"))
	}
}

func (s *Service) meetingPost(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("action") {
	case "join":
		s.meetingJoin(w, r)
	default:
		s.pages.Error(w, r, rocca.Localized(rocca.ENOTFOUND, "conf.error.meeting_not_found", "not found"))
	}
}
