package conferencing

import (
	"net/http"
)

// publicSite serves the public stream to citizens, without login: the page, the token endpoint
// and the WebSocket. Its addresses carry the stream id, never the meeting id.
type publicSite struct {
	s     *Service
	joins ipThrottle // POST /join per client address
}

// publicRoutes mounts the public stream's handlers. They are open to everybody: the stream id
// only lets people watch, and only while the stream is on.
func (s *Service) publicRoutes(h interface {
	Handle(pattern string, h http.Handler)
}) {
	p := &publicSite{s: s}
	h.Handle("GET /pubblico/{stream}", http.HandlerFunc(p.show))
	h.Handle("POST /pubblico/{stream}/join", http.HandlerFunc(p.join))
	h.Handle("GET /pubblico/{stream}/ws", http.HandlerFunc(p.ws))
}
