package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// The TLS modes of Options.TLS.
const (
	TLSOff        = "off"
	TLSSelfSigned = "self-signed"
	TLSFiles      = "files"
	TLSACME       = "acme"
)

// shutdownTimeout bounds the graceful shutdown: requests still running after it are cut.
const shutdownTimeout = 10 * time.Second

// Options configures the server; the fields mirror the [server] and [municipality] config keys.
type Options struct {
	Listen            string // "127.0.0.1:8080"
	PublicURL         string // "https://rocca.comune.example.it"; may be empty in development
	TLS               string // off | self-signed | files | acme ("" means off)
	CertFile, KeyFile string // tls = files
	DataDir           string // self-signed cert+key in <DataDir>/tls/, acme cache in <DataDir>/acme
	ACMEEmail         string
	Municipality      string // shown in the header
}

// HomeLink is one entry of the home page and of the navigation bar.
type HomeLink struct {
	TitleKey, DescKey, Href string
	Role                    rocca.Role // "" = everyone signed in; admins see all
}

type readyCheck struct {
	name  string
	check func(ctx context.Context) error
}

// Server is the one HTTP(S) server. Build it with New, mount handlers with Handle, then Listen and
// Serve.
type Server struct {
	opts      Options
	logger    *slog.Logger
	cat       *i18n.Catalog
	mux       *http.ServeMux
	render    *Renderer
	assets    *assets
	cop       *http.CrossOriginProtection
	metrics   *httpMetrics
	publicURL *url.URL // nil when not configured
	csp       string
	tls       *tlsState // nil when TLS is off
	site      *site

	mu         sync.Mutex
	middleware []func(http.Handler) http.Handler
	checks     []readyCheck
	home       []HomeLink
	ln, httpLn net.Listener

	draining atomic.Bool // set when shutdown starts: readyz answers 503
}

// New builds the server: it validates opts, prepares TLS (creating or loading the self-signed
// certificate, loading cert files), parses the layout and registers the built-in routes. reg may
// be nil when metrics are not wanted.
func New(opts Options, logger *slog.Logger, cat *i18n.Catalog, reg prometheus.Registerer) (*Server, error) {
	if cat == nil {
		return nil, errors.New("web: a message catalog is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if opts.TLS == "" {
		opts.TLS = TLSOff
	}
	logger = logger.With("part", "web")
	s := &Server{opts: opts, logger: logger, cat: cat, mux: http.NewServeMux()}
	var err error
	if s.publicURL, err = parsePublicURL(opts.PublicURL); err != nil {
		return nil, err
	}
	if s.metrics, err = newHTTPMetrics(reg); err != nil {
		return nil, err
	}
	if s.tls, err = newTLSState(opts, s.publicURL, logger, s.metrics.certExpiry); err != nil {
		return nil, err
	}
	if s.render, err = NewRenderer(cat, logger, pagesFS()); err != nil {
		return nil, err
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	s.csp = contentSecurityPolicy(s.publicURL)
	s.site = &site{cat: cat, municipality: opts.Municipality, links: s.homeLinks}
	s.cop = http.NewCrossOriginProtection()
	if s.publicURL != nil {
		if err := s.cop.AddTrustedOrigin(s.publicURL.Scheme + "://" + s.publicURL.Host); err != nil {
			return nil, fmt.Errorf("web: trusted origin: %w", err)
		}
	}
	s.cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	s.routes()
	return s, nil
}

// parsePublicURL accepts "" (not configured) or an absolute http(s) URL with a host.
func parsePublicURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, rocca.Localized(rocca.EINVALID, "web.public_url.invalid",
			fmt.Sprintf("server.public_url %q is not a full address like https://rocca.comune.example.it", raw), raw)
	}
	return u, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.homeShow)
	s.mux.HandleFunc("GET /static/{file}", s.staticServe)
	s.mux.HandleFunc("GET /healthz", s.healthShow)
	s.mux.HandleFunc("GET /readyz", s.readyShow)
	s.mux.HandleFunc("GET /lang/{code}", s.langSet)
}

// Handle registers h for pattern (Go 1.22 ServeMux syntax, e.g. "GET /login").
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleFunc registers h for pattern.
func (s *Server) HandleFunc(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// Use adds a middleware that runs inside the built-in chain, just before the mux; the first added
// runs first. Call it before Handler or Serve.
func (s *Server) Use(mw func(http.Handler) http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.middleware = append(s.middleware, mw)
}

// AddReadyCheck adds a check that /readyz runs; the server is ready when every check returns nil.
func (s *Server) AddReadyCheck(name string, check func(ctx context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, readyCheck{name: name, check: check})
}

// SetHome sets the links of the home page and the navigation bar; each user sees those their role
// allows.
func (s *Server) SetHome(links []HomeLink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.home = slices.Clone(links)
}

func (s *Server) homeLinks() []HomeLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.home
}

// SecureCookies reports whether cookies must carry the Secure flag: TLS is on here or in front of us.
func (s *Server) SecureCookies() bool {
	return s.tls != nil || s.publicURL != nil && s.publicURL.Scheme == "https"
}

// Renderer returns the server's own renderer (layout, error and home pages), for handlers that only
// need error pages.
func (s *Server) Renderer() *Renderer { return s.render }

// Handler returns the whole chain: built-in middleware, the Use'd middleware, then the mux. Serve
// uses it; tests may mount it on an httptest server.
func (s *Server) Handler() http.Handler {
	s.mu.Lock()
	extra := slices.Clone(s.middleware)
	s.mu.Unlock()
	var h http.Handler = http.HandlerFunc(s.route)
	for i := len(extra) - 1; i >= 0; i-- {
		h = extra[i](h)
	}
	h = s.cop.Handler(h)
	h = limitBody(h)
	h = s.withSite(h)
	h = s.securityHeaders(h)
	h = s.accessLog(h)
	h = s.recoverPanics(h)
	return withRequestID(h)
}

// route serves the mux, with Rocca's own pages for unknown paths (404) and wrong methods (405).
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// The mux answers 404 or 405 (with an Allow header): find out which, then show our page.
	probe := &probeWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		s.render.statusPage(w, r, http.StatusMethodNotAllowed, "web.error.method.title", "web.error.method.text")
		return
	}
	s.render.statusPage(w, r, http.StatusNotFound, "web.error.not_found.title", "web.error.not_found.text")
}

// probeWriter records the status the mux's fallback handler would send and discards the body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }

// Listen binds the web address now (and :80 too in acme mode, for HTTP-01 and redirects), so the
// caller can log the address and fail early.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := listenTCP(s.opts.Listen)
	if err != nil {
		return err
	}
	if s.tls != nil && s.tls.acme != nil {
		httpLn, err := listenTCP(net.JoinHostPort(s.tls.acme.listenHost, "80"))
		if err != nil {
			ln.Close()
			return err
		}
		s.httpLn = httpLn
	}
	s.ln = ln
	return nil
}

// listenTCP binds addr and turns the usual failures into messages an IT person can act on.
func listenTCP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	var e *rocca.Error
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		e = rocca.Localized(rocca.EUNAVAILABLE, "web.listen.in_use",
			fmt.Sprintf("address %s is already in use by another program", addr), addr)
	case errors.Is(err, fs.ErrPermission):
		e = rocca.Localized(rocca.EUNAVAILABLE, "web.listen.denied",
			fmt.Sprintf("no permission to listen on %s", addr), addr)
	default:
		e = rocca.Localized(rocca.EUNAVAILABLE, "web.listen.failed",
			fmt.Sprintf("cannot listen on %s", addr), addr, err.Error())
	}
	e.Err = err
	return nil, e
}

// Addr returns the bound address, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve serves until ctx is done, then shuts down gracefully (at most 10 s). It calls Listen if the
// caller has not.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln, httpLn := s.ln, s.httpLn
	s.mu.Unlock()

	srv := s.httpServer(s.Handler())
	var redirect *http.Server
	if s.tls != nil {
		cfg, challenge, stop, err := s.tls.config(ctx)
		if err != nil {
			return err
		}
		defer stop()
		srv.TLSConfig = cfg
		if httpLn != nil {
			redirect = s.httpServer(s.securityHeaders(challenge(http.HandlerFunc(s.redirectToHTTPS))))
		}
	}

	errc := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	})
	if redirect != nil {
		wg.Go(func() { errc <- redirect.Serve(httpLn) })
	}
	s.logger.Info("web server listening", "addr", ln.Addr().String(), "tls", s.opts.TLS)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc: // a server stopped by itself: stop the other too and report why
	}
	s.draining.Store(true)
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, hs := range []*http.Server{srv, redirect} {
		if hs != nil && hs.Shutdown(shutCtx) != nil {
			hs.Close()
		}
	}
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: serve: %w", err)
	}
	return nil
}

func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler: h,
		// No ReadTimeout/WriteTimeout: they would cut WebSocket signalling and large downloads.
		// Handlers that need deadlines set them with http.ResponseController.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// TLS handshake failures (self-signed certificates, scanners) are noise: debug level.
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
}

// redirectToHTTPS sends plain-HTTP visitors (acme mode, port 80) to the public HTTPS address.
func (s *Server) redirectToHTTPS(w http.ResponseWriter, r *http.Request) {
	target := url.URL{Scheme: "https", Host: s.publicURL.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	w.Header().Set("Connection", "close")
	http.Redirect(w, r, target.String(), http.StatusMovedPermanently)
}

// tlsOn reports whether this process terminates TLS.
func (s *Server) tlsOn() bool { return s.tls != nil }

// serverTLSConfig is the base for every TLS mode.
func serverTLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
}
