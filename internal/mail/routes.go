package mail

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/web"
)

//go:embed pages/*.html
var pageFiles embed.FS

// Routes mounts the admin page of the outbox: GET /admin/outbox (?state= filters) and
// POST /admin/outbox/{id}/retry. require is the admin-only middleware of cmd/rocca (this package
// does not import internal/auth). The page texts come from the embedded i18n catalog.
func (o *Outbox) Routes(h interface {
	Handle(pattern string, h http.Handler)
}, require func(http.Handler) http.Handler) {
	if err := o.loadPages(); err != nil {
		// The templates and the catalog are embedded: this is a build bug, which the tests catch.
		o.logger.Error("outbox admin page unavailable", "err", err)
	}
	h.Handle("GET /admin/outbox", require(http.HandlerFunc(o.outboxList)))
	h.Handle("POST /admin/outbox/{id}/retry", require(http.HandlerFunc(o.outboxRetry)))
}

func (o *Outbox) loadPages() error {
	cat, err := i18n.New()
	if err != nil {
		return err
	}
	pages, err := fs.Sub(pageFiles, "pages")
	if err != nil {
		return err
	}
	o.pages, err = web.NewRenderer(cat, o.logger, pages)
	return err
}

// pagesReady answers 500 when the renderer could not be built; handlers call it first.
func (o *Outbox) pagesReady(w http.ResponseWriter) bool {
	if o.pages == nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return false
	}
	return true
}
