package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca/internal/web"
)

// apiStatusShow is GET /api/vpn/status: Status as JSON.
func (s *Service) apiStatusShow(w http.ResponseWriter, r *http.Request) {
	st, err := s.Status(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, st)
}
