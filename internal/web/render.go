package web

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed pages/*.html
var pageFiles embed.FS

// pagesFS holds the pages this package owns (home).
func pagesFS() fs.FS {
	sub, _ := fs.Sub(pageFiles, "pages")
	return sub
}

// Page is the dot of every page template.
type Page struct {
	Lang         string
	User         *rocca.User // nil when nobody is signed in
	Title        string      // the text of the page's "title" block, filled in before the layout runs
	Data         any         // what the handler passed to Render
	Path         string      // the request path, without the query
	Municipality string
	Nav          []HomeLink // the links the user may use, for the navigation bar
	RequestID    string
}

// Active reports whether href is the current section, for aria-current in the navigation bar.
func (p Page) Active(href string) bool {
	return p.Path == href || href != "/" && strings.HasPrefix(p.Path, strings.TrimSuffix(href, "/")+"/")
}

// Renderer renders one owner's pages inside the shared layout, in the request's language.
type Renderer struct {
	cat    *i18n.Catalog
	logger *slog.Logger
	assets *assets
	sets   map[string]map[string]*template.Template // lang -> page -> parsed set
	bufs   sync.Pool
}

// NewRenderer parses the embedded layout and the built-in error page plus every *.html at the top
// of pages. A page file defines {{define "title"}} and {{define "content"}} (optionally "head" for
// extra <link> or <script src> tags); files whose name starts with "_" are partials shared by every
// page. Each page gets its own template set per language, with t bound to that language.
func NewRenderer(cat *i18n.Catalog, logger *slog.Logger, pages fs.FS) (*Renderer, error) {
	if cat == nil {
		return nil, fmt.Errorf("web: renderer: a message catalog is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	r := &Renderer{cat: cat, logger: logger, assets: a, sets: map[string]map[string]*template.Template{}}
	r.bufs.New = func() any { return new(bytes.Buffer) }

	layout, err := fs.ReadFile(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	builtin, err := readPages(templateFiles, "templates", "layout.html")
	if err != nil {
		return nil, err
	}
	own := map[string][]byte{}
	var partials []string
	if pages != nil {
		if own, err = readPages(pages, ".", ""); err != nil {
			return nil, err
		}
		for name := range own {
			if _, clash := builtin[name]; clash {
				return nil, fmt.Errorf("web: page %q is reserved by the web package", name)
			}
			if strings.HasPrefix(name, "_") {
				partials = append(partials, name)
			}
		}
		sort.Strings(partials)
	}
	for _, lang := range i18n.Languages() {
		base, err := template.New("layout").Funcs(r.funcs(lang)).Parse(string(layout))
		if err != nil {
			return nil, fmt.Errorf("web: layout: %w", err)
		}
		for _, name := range partials {
			if _, err := base.New(name + ".html").Parse(string(own[name])); err != nil {
				return nil, fmt.Errorf("web: partial %s.html: %w", name, err)
			}
		}
		r.sets[lang] = map[string]*template.Template{}
		for _, src := range []map[string][]byte{builtin, own} {
			for name, body := range src {
				if strings.HasPrefix(name, "_") {
					continue
				}
				t, err := parsePage(base, name, body)
				if err != nil {
					return nil, err
				}
				r.sets[lang][name] = t
			}
		}
	}
	return r, nil
}

// readPages reads every *.html in dir of fsys, keyed by name without ".html".
func readPages(fsys fs.FS, dir, skip string) (map[string][]byte, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.html"))
	if err != nil {
		return nil, fmt.Errorf("web: pages: %w", err)
	}
	out := map[string][]byte{}
	for _, name := range names {
		base := path.Base(name)
		if base == skip {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("web: page %s: %w", name, err)
		}
		out[strings.TrimSuffix(base, ".html")] = body
	}
	return out, nil
}

func parsePage(base *template.Template, name string, body []byte) (*template.Template, error) {
	t, err := base.Clone()
	if err != nil {
		return nil, fmt.Errorf("web: page %s.html: %w", name, err)
	}
	if _, err := t.New(name + ".html").Parse(string(body)); err != nil {
		return nil, fmt.Errorf("web: page %s.html: %w", name, err)
	}
	for _, block := range []string{"title", "content"} {
		if t.Lookup(block) == nil {
			return nil, fmt.Errorf("web: page %s.html defines no %q block", name, block)
		}
	}
	return t, nil
}

// Pages returns the names of the pages this renderer knows, sorted; tests use it to render them all.
func (r *Renderer) Pages() []string {
	var names []string
	for name := range r.sets[i18n.Default] {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// funcs are the template functions, bound to one language.
func (r *Renderer) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":       func(key string, args ...any) string { return r.cat.T(lang, key, args...) },
		"lang":    func() string { return lang },
		"static":  r.assets.url,
		"fmtTime": func(t time.Time) string { return formatTime(lang, t, true) },
		"fmtDate": func(t time.Time) string { return formatTime(lang, t, false) },
		"languages": func() []string {
			return i18n.Languages()
		},
	}
}

// formatTime writes t the way people in lang read dates, in the server's time zone.
func formatTime(lang string, t time.Time, clock bool) string {
	if t.IsZero() {
		return ""
	}
	t = t.Local()
	layout := "02/01/2006"
	if lang == "en" {
		layout = "2 Jan 2006"
	}
	if clock {
		layout += " 15:04"
	}
	return t.Format(layout)
}

// Render writes page (a file name without .html) with status, in the request's language, inside the
// layout. data becomes Page.Data. A template failure is logged and answered with a plain 500.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, page string, data any) {
	lang := langOf(req, r.cat)
	t := r.sets[lang][page]
	if t == nil {
		r.failed(w, req, lang, fmt.Errorf("unknown page %q", page))
		return
	}
	p := r.page(req, lang, data)
	buf := r.bufs.Get().(*bytes.Buffer)
	defer r.bufs.Put(buf)
	buf.Reset()
	if err := t.ExecuteTemplate(buf, "title", p); err != nil {
		r.failed(w, req, lang, fmt.Errorf("page %s: title: %w", page, err))
		return
	}
	p.Title = strings.TrimSpace(html.UnescapeString(buf.String()))
	buf.Reset()
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		r.failed(w, req, lang, fmt.Errorf("page %s: %w", page, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages carry personal data
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if req.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func (r *Renderer) page(req *http.Request, lang string, data any) Page {
	p := Page{
		Lang:      lang,
		User:      rocca.UserFromContext(req.Context()),
		Data:      data,
		Path:      req.URL.Path,
		RequestID: RequestID(req.Context()),
	}
	if st := siteOf(req.Context()); st != nil {
		p.Municipality = st.municipality
		if p.User != nil {
			p.Nav = visibleLinks(st.links(), p.User)
		}
	}
	return p
}

// visibleLinks returns the links u may use: those for everyone, those of u's role, all for admins.
func visibleLinks(links []HomeLink, u *rocca.User) []HomeLink {
	var out []HomeLink
	for _, l := range links {
		if u != nil && !u.Disabled && (l.Role == "" || u.Can(l.Role)) {
			out = append(out, l)
		}
	}
	return out
}

// failed answers a rendering failure: logged with the request id, a short plain 500 for the user.
func (r *Renderer) failed(w http.ResponseWriter, req *http.Request, lang string, err error) {
	id := RequestID(req.Context())
	r.logger.Error("render page", "request_id", id, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintln(w, r.cat.T(lang, "web.error.internal.text"))
	if id != "" {
		fmt.Fprintln(w, r.cat.T(lang, "web.error.request_id", id))
	}
}
