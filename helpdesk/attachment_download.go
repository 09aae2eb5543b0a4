package helpdesk

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
)

// inlineTypes are the media types served as themselves, so that <img> can show them; everything
// else is served as application/octet-stream.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// attachmentDownload is GET /helpdesk/attachments/{id}. The file is always an attachment to save
// (Content-Disposition), never sniffed, and sandboxed: a hostile file cannot run in our origin.
func (s *Service) attachmentDownload(w http.ResponseWriter, r *http.Request) {
	id, err := pathInt(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, f, err := s.OpenAttachment(r.Context(), rocca.UserFromContext(r.Context()), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	ct := "application/octet-stream"
	if inlineTypes[strings.ToLower(a.ContentType)] {
		ct = a.ContentType
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", disposition(a.Filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// disposition is "attachment" with the file name, RFC 2231-encoded when it is not plain ASCII.
func disposition(name string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}
