package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca/internal/web"
)

// apiPeersCreate is POST /api/vpn/peers with a PeerAddRequest: 201 and a PeerAddResponse whose
// config (with the private key) is given this once.
func (s *Service) apiPeersCreate(w http.ResponseWriter, r *http.Request) {
	var in PeerAddRequest
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.AddPeerCLI(r.Context(), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, out)
}
