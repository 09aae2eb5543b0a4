package helpdesk

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
)

// mailDownload is GET /helpdesk/mails/{id}/raw: the mail exactly as it arrived (a PEC envelope
// with its signature, for instance), as a .eml file to save.
func (s *Service) mailDownload(w http.ResponseWriter, r *http.Request) {
	id, err := pathInt(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	raw, err := s.RawMail(r.Context(), rocca.UserFromContext(r.Context()), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", disposition(fmt.Sprintf("messaggio-%d.eml", id)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.Write(raw)
}
