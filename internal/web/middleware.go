package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// DefaultBodyLimit caps request bodies (forms); handlers that accept more call SetBodyLimit.
const DefaultBodyLimit = 1 << 20

// requestInfo is what the outer middleware learns about a request and the inner handlers may adjust.
type requestInfo struct {
	id      string
	logPath string // replaces the path in the access log when the path holds a secret
}

type requestInfoKey struct{}

func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		info := &requestInfo{id: hex.EncodeToString(b[:])}
		w.Header().Set("X-Request-Id", info.id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

// RequestID returns the id the server gave the request (also sent as X-Request-Id), or "".
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// LogPath makes the access log record path instead of the request's path, for routes whose path
// carries a secret (invitation or first-run tokens).
func LogPath(r *http.Request, path string) {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.logPath = path
	}
}

// statusWriter records the status and size of a response for the access log and the panic handler.
// It keeps Flush and Hijack working (WebSocket signalling needs Hijack).
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the handler asked to drop the connection
			}
			s.logger.Error("panic serving request", "request_id", RequestID(r.Context()),
				"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status != 0 {
				return // the response has started; the client gets a truncated one
			}
			// Drop whatever the handler had set (Content-Disposition, JSON type...) but keep our headers.
			h := w.Header()
			clear(h)
			h.Set("X-Request-Id", RequestID(r.Context()))
			s.setSecurityHeaders(h)
			s.render.statusPage(sw, r, http.StatusInternalServerError, "web.error.internal.title", "web.error.internal.text")
		}()
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		start := time.Now()
		next.ServeHTTP(sw, r)
		elapsed := time.Since(start)
		status := sw.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http sends 200
		}
		s.metrics.observe(r.Method, status, elapsed)
		path := r.URL.Path // never the query string: it may hold tokens
		level := slog.LevelInfo
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok && info.logPath != "" {
			path = info.logPath
		}
		if path == "/healthz" || path == "/readyz" || strings.HasPrefix(path, "/static/") {
			level = slog.LevelDebug
		}
		s.logger.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", path),
			slog.Int("status", status),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", elapsed),
			slog.String("remote", r.RemoteAddr))
	})
}

// contentSecurityPolicy allows only our own origin: no inline script or style anywhere. WebSocket
// signalling goes to the public host (ws/wss are spelled out for browsers that do not match them with
// 'self').
func contentSecurityPolicy(public *url.URL) string {
	connect := "'self'"
	if public != nil {
		connect += " wss://" + public.Host
		if public.Scheme == "http" {
			connect += " ws://" + public.Host
		}
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
		"media-src 'self' blob:; connect-src " + connect + "; frame-ancestors 'none'; base-uri 'self'; " +
		"form-action 'self'; object-src 'none'"
}

func (s *Server) setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), "+
		"fullscreen=(self), geolocation=(), payment=(), usb=()")
	if s.tlsOn() {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.setSecurityHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

// site is what every page of this server shares, carried in the request context for the Renderer.
type site struct {
	cat          *i18n.Catalog
	municipality string
	links        func() []HomeLink
}

type siteKey struct{}

func (s *Server) withSite(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), siteKey{}, s.site)))
	})
}

func siteOf(ctx context.Context) *site {
	st, _ := ctx.Value(siteKey{}).(*site)
	return st
}

type bodyKey struct{}

// limitBody caps every request body at DefaultBodyLimit and remembers the original body so that a
// handler can raise the cap with SetBodyLimit.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		orig := r.Body
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, orig))
		r.Body = http.MaxBytesReader(w, orig, DefaultBodyLimit)
		next.ServeHTTP(w, r)
	})
}

// SetBodyLimit replaces the default body cap of r with n bytes. Call it before reading the body.
// Reading past the cap fails with *http.MaxBytesError, which Error shows as 413.
func SetBodyLimit(w http.ResponseWriter, r *http.Request, n int64) {
	if orig, ok := r.Context().Value(bodyKey{}).(io.ReadCloser); ok {
		r.Body = http.MaxBytesReader(w, orig, n)
	}
}

func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.logger.Warn("cross-origin request refused", "request_id", RequestID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"),
		"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	s.render.statusPage(w, r, http.StatusForbidden, "web.error.cross_origin.title", "web.error.cross_origin.text")
}
