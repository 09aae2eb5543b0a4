package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// readyCheckTimeout bounds each readiness check so that /readyz answers even when a dependency hangs.
const readyCheckTimeout = 5 * time.Second

// readyShow is GET /readyz: 200 when every ready check passes, else 503 naming each check's state.
// Error details go to the log, not to the (unauthenticated) response.
func (s *Server) readyShow(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	checks := slices.Clone(s.checks)
	s.mu.Unlock()

	draining := s.draining.Load()
	states := make(map[string]string, len(checks))
	failing := []string{}
	if draining {
		failing = append(failing, "shutdown")
		states["shutdown"] = "in progress"
	}
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(r.Context(), readyCheckTimeout)
		err := c.check(ctx)
		cancel()
		if err != nil {
			s.logger.Warn("ready check failed", "check", c.name, "err", err)
			states[c.name] = "failing"
			failing = append(failing, c.name)
			continue
		}
		states[c.name] = "ok"
	}
	status, summary := http.StatusOK, "ready"
	if len(failing) > 0 {
		status, summary = http.StatusServiceUnavailable, "unavailable"
	}
	if wantsJSON(r) {
		JSON(w, status, map[string]any{"status": summary, "checks": states, "failing": failing})
		return
	}
	var b strings.Builder
	fmt.Fprintln(&b, summary)
	for _, c := range checks {
		fmt.Fprintf(&b, "%s: %s\n", c.name, states[c.name])
	}
	if draining {
		fmt.Fprintln(&b, "shutdown: in progress")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}
