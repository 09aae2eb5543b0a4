package vpn

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// DeviceAddRequest is the body of POST /api/vpn/devices: a device for the caller.
type DeviceAddRequest struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key,omitempty"`
	Link      bool   `json:"link,omitempty"`  // deliver by one-time link instead of in the answer
	Email     bool   `json:"email,omitempty"` // and e-mail the link
}

// apiDevicesCreate is POST /api/vpn/devices: 201 and a PeerAddResponse, under the self-service
// policy.
func (s *Service) apiDevicesCreate(w http.ResponseWriter, r *http.Request) {
	var in DeviceAddRequest
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	u := rocca.UserFromContext(r.Context())
	d, err := s.AddMyPeer(r.Context(), u, in.Name, in.PublicKey)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := &PeerAddResponse{Peer: d.Peer}
	if (in.Link || in.Email) && !d.Peer.OwnKey {
		if out.Link, err = s.CreateMyLink(r.Context(), u, d.Peer.ID, in.Email); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		out.Config, out.FileName = d.Config, d.FileName
	}
	web.JSON(w, http.StatusCreated, out)
}
