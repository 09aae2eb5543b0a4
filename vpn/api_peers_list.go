package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca/internal/web"
)

// apiPeersList is GET /api/vpn/peers[?all=1]: every live device (all=1: also revoked and expired).
func (s *Service) apiPeersList(w http.ResponseWriter, r *http.Request) {
	peers, err := s.Peers(r.Context(), PeerFilter{Ended: r.URL.Query().Get("all") == "1"})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if peers == nil {
		peers = []*Peer{}
	}
	web.JSON(w, http.StatusOK, map[string]any{"peers": peers})
}
