package mail

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/adminapi"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/web"
)

// Routes mounts the admin page "Account di posta". require is auth.Require of cmd/rocca; every
// route is for administrators.
//
//	GET  /admin/mail                     the accounts, their sign-in and its health
//	POST /admin/mail/{name}/connect      start a web sign-in (authorization code with PKCE and state)
//	GET  /admin/mail/callback            the provider sends the admin back here (CallbackPath)
//	POST /admin/mail/{name}/disconnect   forget the stored sign-in
func (s *Accounts) Routes(h interface {
	Handle(pattern string, h http.Handler)
}, require func(rocca.Role) func(http.Handler) http.Handler) {
	if err := s.loadPages(); err != nil {
		// The templates and the catalog are embedded: a build bug, which the tests catch.
		s.logger.Error("mail accounts page unavailable", "err", err)
	}
	admin := require(rocca.RoleAdmin)
	h.Handle("GET /admin/mail", admin(http.HandlerFunc(s.accountsList)))
	h.Handle("POST /admin/mail/{name}/connect", admin(http.HandlerFunc(s.accountConnect)))
	h.Handle("GET "+CallbackPath, admin(http.HandlerFunc(s.accountCallback)))
	h.Handle("POST /admin/mail/{name}/disconnect", admin(http.HandlerFunc(s.accountDisconnect)))
}

func (s *Accounts) loadPages() error {
	cat, err := i18n.New()
	if err != nil {
		return err
	}
	pages, err := fs.Sub(pageFiles, "pages")
	if err != nil {
		return err
	}
	r, err := web.NewRenderer(cat, s.logger, pages)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.pages, s.cat = r, cat
	s.mu.Unlock()
	return nil
}

func (s *Accounts) renderer(w http.ResponseWriter) *web.Renderer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pages == nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
	return s.pages
}

// DeviceStartRequest is the body of POST /v1/mail/device.
type DeviceStartRequest struct {
	Account string `json:"account"`
}

// deviceWaitLimit bounds one long poll of GET /v1/mail/device/{id}, under the admin client's
// 60 s timeout.
const deviceWaitLimit = 25 * time.Second

// AdminRoutes registers the routes of `rocca mail …` on the admin socket:
//
//	GET    /v1/mail/accounts                      []AccountStatus
//	POST   /v1/mail/device                        DeviceStartRequest → DeviceCode
//	GET    /v1/mail/device/{id}?seen=N&wait=S     DeviceProgress (waits up to S ≤ 25 s for a change)
//	DELETE /v1/mail/device/{id}                   stop polling
//	POST   /v1/mail/accounts/{name}/disconnect    forget the sign-in
func (s *Accounts) AdminRoutes(h interface {
	Handle(pattern string, h http.Handler)
}, logger *slog.Logger) {
	h.Handle("GET /v1/mail/accounts", adminapi.Func(logger, func(ctx context.Context, _ *http.Request, _ struct{}) ([]AccountStatus, error) {
		sts, err := s.Status(ctx)
		if sts == nil {
			sts = []AccountStatus{}
		}
		return sts, err
	}))
	h.Handle("POST /v1/mail/device", adminapi.Func(logger, func(ctx context.Context, _ *http.Request, in DeviceStartRequest) (DeviceCode, error) {
		return s.DeviceStart(ctx, in.Account)
	}))
	h.Handle("GET /v1/mail/device/{id}", adminapi.Func(logger, func(ctx context.Context, r *http.Request, _ struct{}) (DeviceProgress, error) {
		seen := atoiDefault(r.URL.Query().Get("seen"), 0)
		wait := min(time.Duration(atoiDefault(r.URL.Query().Get("wait"), 0))*time.Second, deviceWaitLimit)
		return s.DeviceWait(ctx, r.PathValue("id"), seen, wait)
	}))
	h.Handle("DELETE /v1/mail/device/{id}", adminapi.Func(logger, func(_ context.Context, r *http.Request, _ struct{}) (struct{}, error) {
		s.DeviceCancel(r.PathValue("id"))
		return struct{}{}, nil
	}))
	h.Handle("POST /v1/mail/accounts/{name}/disconnect", adminapi.Func(logger, func(ctx context.Context, r *http.Request, _ struct{}) (struct{}, error) {
		return struct{}{}, s.Disconnect(ctx, r.PathValue("name"))
	}))
}

func atoiDefault(s string, def int) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1<<20 {
			return def
		}
		n = n*10 + int(c-'0')
	}
	if s == "" {
		return def
	}
	return n
}
