package web

import (
	"net/http"
	"time"
)

// langSet is GET /lang/{code}: it remembers the language in a cookie and goes back to ?next=.
func (s *Server) langSet(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !supported(code) {
		s.render.statusPage(w, r, http.StatusNotFound, "web.error.not_found.title", "web.error.not_found.text")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     langCookie,
		Value:    code,
		Path:     "/",
		MaxAge:   int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true,
		Secure:   s.SecureCookies(),
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, SafeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}
