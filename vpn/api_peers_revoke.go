package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca/internal/web"
)

// apiPeersRevoke is POST /api/vpn/peers/{id}/revoke.
func (s *Service) apiPeersRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Revoke(r.Context(), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]int64{"revoked": id})
}
