package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// apiDevicesRevoke is POST /api/vpn/devices/{id}/revoke for one of the caller's devices.
func (s *Service) apiDevicesRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.RevokeMine(r.Context(), rocca.UserFromContext(r.Context()), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]int64{"revoked": id})
}
