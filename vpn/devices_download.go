package vpn

import (
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
)

// devicesDownload downloads the .conf of a device whose owner keeps their own private key (it holds
// no secret of the device, so it can be fetched again).
func (s *Service) devicesDownload(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.OwnKeyConfig(r.Context(), rocca.UserFromContext(r.Context()), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveConfig(w, d)
}

// serveConfig sends a configuration as a .conf file download.
func serveConfig(w http.ResponseWriter, d *Delivery) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+d.FileName+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(d.Config)))
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(d.Config))
}
