package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// apiDevicesList is GET /api/vpn/devices: the caller's live devices.
func (s *Service) apiDevicesList(w http.ResponseWriter, r *http.Request) {
	peers, err := s.Peers(r.Context(), PeerFilter{UserID: rocca.UserFromContext(r.Context()).ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if peers == nil {
		peers = []*Peer{}
	}
	web.JSON(w, http.StatusOK, map[string]any{"devices": peers})
}
