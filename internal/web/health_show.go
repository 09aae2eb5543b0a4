package web

import (
	"net/http"
)

// healthShow is GET /healthz: the process is up and serving.
func (s *Server) healthShow(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}
