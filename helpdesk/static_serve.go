package helpdesk

import (
	"embed"
	"net/http"
	"path"
)

//go:embed static/*
var staticFiles embed.FS

// staticServe is GET /helpdesk/static/{file}: the helpdesk's script and stylesheet (no inline
// script or style anywhere: the CSP forbids them).
func (s *Service) staticServe(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	body, err := staticFiles.ReadFile("static/" + path.Base(name))
	if err != nil || name != path.Base(name) {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(body)
}
