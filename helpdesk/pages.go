package helpdesk

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// fail answers err with the shared error page.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.render.Error(w, r, err)
}

// message is err as a sentence in the request's language, for forms that show it next to the
// fields; internal errors are logged and shown as a generic text.
func (s *Service) message(r *http.Request, err error) string {
	var e *rocca.Error
	if errors.As(err, &e) && e.Key != "" && e.Code != rocca.EINTERNAL {
		return s.cat.T(web.Lang(r), e.Key, e.Args...)
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return s.cat.T(web.Lang(r), "helpdesk.error.file_too_large", maxUploadSum>>20)
	}
	s.logger.Error("request failed", "path", r.URL.Path, "err", err)
	return s.cat.T(web.Lang(r), "helpdesk.error.internal")
}

func formStatus(err error) int {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	return web.StatusOf(rocca.ErrorCodeOf(err))
}

// pathInt parses a positive path value.
func pathInt(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, rocca.Localized(rocca.ENOTFOUND, "helpdesk.error.bad_number", "no such item")
	}
	return n, nil
}

// readForm reads a form that may carry files, within the upload limit.
func readForm(w http.ResponseWriter, r *http.Request) ([]Upload, error) {
	web.SetBodyLimit(w, r, maxUploadSum+(1<<20))
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return nil, r.ParseForm()
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return nil, err
	}
	var out []Upload
	for _, fh := range r.MultipartForm.File["files"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
		out = append(out, Upload{Filename: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data})
	}
	return out, nil
}

// allowRemoteImages widens the page's Content-Security-Policy so that remote images in a mail can
// load once the reader asks for them: mailin moved every remote src into data-remote-src, so
// nothing loads until the page script copies it back on a click.
func allowRemoteImages(w http.ResponseWriter) {
	h := w.Header()
	csp := h.Get("Content-Security-Policy")
	if csp == "" {
		return
	}
	h.Set("Content-Security-Policy", strings.Replace(csp, "img-src 'self'", "img-src 'self' https: http:", 1))
}

var cidSrc = regexp.MustCompile(`src="cid:([^"]*)"`)

// viewMessage is a message as the thread template shows it.
type viewMessage struct {
	*Message
	Body         template.HTML // sanitised HTML with cid: images pointing at their attachment
	RemoteImages bool
	Quoted       string // the quoted history, when Text holds only the new part
	Files        []Attachment
	Agent        bool // the reader is an agent: links to the original mail
}

// viewMessages prepares messages for display. The HTML was sanitised by mailin when the mail
// arrived (bluemonday: no script, no event handlers, no remote loads); here cid: references become
// links to the message's own attachments.
func viewMessages(msgs []*Message, agent bool) []viewMessage {
	out := make([]viewMessage, 0, len(msgs))
	for _, m := range msgs {
		v := viewMessage{Message: m, Agent: agent}
		if m.HTML != "" {
			byCID := map[string]int64{}
			for _, a := range m.Files {
				if a.ContentID != "" && !a.Dropped {
					byCID[a.ContentID] = a.ID
				}
			}
			body := cidSrc.ReplaceAllStringFunc(m.HTML, func(src string) string {
				cid := html.UnescapeString(cidSrc.FindStringSubmatch(src)[1])
				if id, ok := byCID[cid]; ok {
					return fmt.Sprintf(`src="/helpdesk/attachments/%d"`, id)
				}
				return `src=""`
			})
			v.Body = template.HTML(body)
			v.RemoteImages = strings.Contains(body, "data-remote-src")
		}
		if m.FullText != "" && m.FullText != m.Text {
			v.Quoted = m.FullText
		}
		for _, a := range m.Files {
			if a.ContentID == "" || !strings.Contains(m.HTML, "cid:"+a.ContentID) {
				v.Files = append(v.Files, a)
			}
		}
		out = append(out, v)
	}
	return out
}

// ticketMeta are the lists the ticket and queue pages offer.
type ticketMeta struct {
	Statuses   []Status
	Priorities []Priority
	Categories []string
}

func (s *Service) meta() ticketMeta {
	return ticketMeta{Statuses: Statuses(), Priorities: Priorities(), Categories: s.cfg.Categories}
}
