package auth

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// fail answers err with web's error page (or JSON under /api/).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.render.Error(w, r, err)
}

// failSecretPath answers err for a route whose path holds a one-time token: the error page and its
// log line see a redacted path.
func (s *Service) failSecretPath(w http.ResponseWriter, r *http.Request, redacted string, err error) {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = redacted, ""
	s.render.Error(w, r2, err)
}

// message is err as a sentence in the request's language, for forms that show it next to the
// fields. Internal errors are logged and shown as the generic text.
func (s *Service) message(r *http.Request, err error) string {
	var e *rocca.Error
	if errors.As(err, &e) && e.Key != "" && e.Code != rocca.EINTERNAL {
		return s.cat.T(web.Lang(r), e.Key, e.Args...)
	}
	s.logger.Error("request failed", "path", r.URL.Path, "err", err)
	return s.cat.T(web.Lang(r), "auth.error.internal")
}

// formStatus is the status of a form page shown again because of err.
func formStatus(err error) int { return web.StatusOf(rocca.ErrorCodeOf(err)) }

// setRetryAfter tells a throttled client when to come back.
func setRetryAfter(w http.ResponseWriter, err error) {
	var te *throttleError
	if errors.As(err, &te) {
		w.Header().Set("Retry-After", strconv.Itoa(int(te.retryAfter.Seconds())+1))
	}
}

// setSessionCookie hands the browser its session id. The cookie lives as long as the browser
// session; the server ends it earlier after SessionTTL without use.
func (s *Service) setSessionCookie(w http.ResponseWriter, raw string) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: raw, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.opts.SecureCookies,
	})
}

func (s *Service) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.opts.SecureCookies,
	})
}

// pathID parses the {id} path value.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, rocca.Localized(rocca.ENOTFOUND, "auth.error.bad_id", "no such item")
	}
	return id, nil
}

// requestIP is the client address Middleware noted, or the request's own.
func requestIP(r *http.Request) string {
	if ip := remoteIPFrom(r.Context()); ip != "" {
		return ip
	}
	return clientIP(r)
}
