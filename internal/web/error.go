package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/rocca-pa/rocca"
)

// StatusOf maps an error code to its HTTP status.
func StatusOf(code rocca.ErrorCode) int {
	switch code {
	case rocca.EINVALID:
		return http.StatusBadRequest
	case rocca.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case rocca.EFORBIDDEN:
		return http.StatusForbidden
	case rocca.ENOTFOUND:
		return http.StatusNotFound
	case rocca.ECONFLICT:
		return http.StatusConflict
	case rocca.EGONE:
		return http.StatusGone
	case rocca.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case rocca.ERATELIMIT:
		return http.StatusTooManyRequests
	case rocca.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// codeKeys returns the catalog keys of the title and of the generic text shown for code: the keys
// are named after the codes ("web.error.not_found.title"); unknown codes read as internal.
func codeKeys(code rocca.ErrorCode) (title, text string) {
	if StatusOf(code) == http.StatusInternalServerError {
		code = rocca.EINTERNAL
	}
	return "web.error." + string(code) + ".title", "web.error." + string(code) + ".text"
}

// errorData is the Data of the built-in "error" page.
type errorData struct {
	Status   int
	Code     rocca.ErrorCode
	TitleKey string
	Message  string
	SignIn   bool // offer the sign-in link (401)
}

// Error answers err: its rocca.Error code gives the status, its catalog Key/Args the message in the
// request's language (a generic text for the code when it has no key). Internal errors show only a
// generic message and the request id; the details go to the log. Requests that want JSON (Accept:
// application/json, or a path under /api/) get {"error":{"code":...,"message":...}}.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, err error) {
	if errors.Is(err, context.Canceled) && req.Context().Err() != nil {
		r.logger.Debug("request canceled by the client", "request_id", RequestID(req.Context()))
		return
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = rocca.Localized(rocca.ETOOLARGE, "web.error.too_large.text", "request body too large")
	}
	lang := langOf(req, r.cat)
	code := rocca.ErrorCodeOf(err)
	if code == "" {
		code = rocca.EINTERNAL
	}
	titleKey, textKey := codeKeys(code)
	msg := r.cat.T(lang, textKey)
	var e *rocca.Error
	if errors.As(err, &e) && e.Key != "" && code != rocca.EINTERNAL {
		msg = r.cat.T(lang, e.Key, e.Args...)
	}
	status := StatusOf(code)
	attrs := []any{"request_id", RequestID(req.Context()), "method", req.Method, "path", req.URL.Path,
		"status", status, "err", err.Error()}
	switch {
	case code == rocca.EINTERNAL:
		r.logger.Error("internal error", attrs...)
	case status >= 500:
		r.logger.Warn("request failed", attrs...)
	default:
		r.logger.Info("request refused", attrs...)
	}
	r.writeError(w, req, status, code, titleKey, msg)
}

// statusPage answers with the error page for a status that has no rocca code (404 of the mux, 405,
// cross-origin 403, panics).
func (r *Renderer) statusPage(w http.ResponseWriter, req *http.Request, status int, titleKey, textKey string) {
	code := rocca.EINTERNAL
	switch status {
	case http.StatusNotFound:
		code = rocca.ENOTFOUND
	case http.StatusForbidden:
		code = rocca.EFORBIDDEN
	case http.StatusMethodNotAllowed:
		code = rocca.EINVALID
	}
	r.writeError(w, req, status, code, titleKey, r.cat.T(langOf(req, r.cat), textKey))
}

func (r *Renderer) writeError(w http.ResponseWriter, req *http.Request, status int, code rocca.ErrorCode, titleKey, msg string) {
	if wantsJSON(req) {
		body := map[string]any{"code": code, "message": msg}
		if id := RequestID(req.Context()); id != "" {
			body["request_id"] = id
		}
		JSON(w, status, map[string]any{"error": body})
		return
	}
	r.Render(w, req, status, "error", errorData{
		Status: status, Code: code, TitleKey: titleKey, Message: msg,
		SignIn: status == http.StatusUnauthorized,
	})
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// JSON writes v as JSON with status. A value that cannot be encoded is a bug: it becomes a 500.
func JSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
