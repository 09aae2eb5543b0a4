// Package adminapi is the local admin socket: JSON over HTTP on a Unix socket (mode 0600, owned by the
// service user) through which the rocca CLI administers a running server, the way tailscale talks to
// tailscaled. Whoever can open the socket is an administrator, so it is never exposed on the network.
//
// It owns the server side (listening, caller identity, JSON envelopes, error mapping) and the client
// the CLI uses. Routes are registered by cmd/rocca, which wires each part's operations to a path.
package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// Server serves the admin API on a Unix socket.
type Server struct {
	path   string
	logger *slog.Logger
	mux    *http.ServeMux
	ln     net.Listener
}

// NewServer returns a server that will listen on the socket at path.
func NewServer(path string, logger *slog.Logger) *Server {
	return &Server{path: path, logger: logger.With("part", "adminapi"), mux: http.NewServeMux()}
}

// Path returns the socket path.
func (s *Server) Path() string { return s.path }

// Handle registers a route, e.g. "POST /v1/users".
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Listen creates the socket. A stale socket left by a crash is removed; a live one means another
// server is running and is an error.
func (s *Server) Listen() error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("admin socket directory: %w", err)
	}
	if c, err := net.DialTimeout("unix", s.path, time.Second); err == nil {
		c.Close()
		return rocca.Localized(rocca.ECONFLICT, "adminapi.already_running",
			"another rocca server is already running (admin socket "+s.path+")", s.path)
	}
	os.Remove(s.path)
	// Create the socket with no access for group and others from the first instant.
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", s.path)
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(s.path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("admin socket: %w", err)
	}
	s.ln = ln
	return nil
}

// Serve answers requests until ctx is done, then removes the socket.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Handler:           s.withCaller(s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext:       connContext,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin socket: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	os.Remove(s.path)
	return err
}

type credKey struct{}

// connContext records the Unix credentials of the connecting process, for the audit log.
func connContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *syscall.Ucred
	raw.Control(func(fd uintptr) {
		cred, _ = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if cred == nil {
		return ctx
	}
	return context.WithValue(ctx, credKey{}, *cred)
}

// withCaller puts the CLI user into the context as an administrator named after the calling
// process's uid, so audit entries say who did what.
func (s *Server) withCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "cli"
		if cred, ok := r.Context().Value(credKey{}).(syscall.Ucred); ok {
			name = fmt.Sprintf("cli (uid %d)", cred.Uid)
		}
		u := &rocca.User{Name: name, Email: name, Role: rocca.RoleAdmin}
		s.logger.Info("admin request", "method", r.Method, "path", r.URL.Path, "caller", name)
		next.ServeHTTP(w, r.WithContext(rocca.NewContextWithUser(r.Context(), u)))
	})
}

// errorBody is the JSON form of an error on the wire.
type errorBody struct {
	Error struct {
		Code    rocca.ErrorCode `json:"code"`
		Message string          `json:"message"`
		Key     string          `json:"key,omitempty"`
		Args    []any           `json:"args,omitempty"`
	} `json:"error"`
}

// Func adapts an operation to a handler: it decodes the JSON body (if any) into a fresh In, calls
// fn, and writes the result or the error as JSON.
func Func[In, Out any](logger *slog.Logger, fn func(ctx context.Context, r *http.Request, in In) (Out, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in In
		if r.ContentLength != 0 && r.Body != nil {
			dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
				writeError(w, logger, rocca.Errorf(rocca.EINVALID, "bad request body: %v", err))
				return
			}
		}
		out, err := fn(r.Context(), r, in)
		if err != nil {
			writeError(w, logger, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
}

func writeError(w http.ResponseWriter, logger *slog.Logger, err error) {
	var body errorBody
	body.Error.Code = rocca.ErrorCodeOf(err)
	body.Error.Message = rocca.ErrorMessage(err)
	var re *rocca.Error
	if errors.As(err, &re) && re.Code != rocca.EINTERNAL {
		body.Error.Key, body.Error.Args = re.Key, re.Args
	}
	if body.Error.Code == rocca.EINTERNAL {
		logger.Error("admin request failed", "err", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(web.StatusOf(body.Error.Code))
	json.NewEncoder(w).Encode(body)
}
