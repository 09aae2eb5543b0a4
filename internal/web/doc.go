// Package web owns Rocca's one HTTP(S) server: the mux and its middleware chain (request id, panic
// recovery, access log, security headers and CSP, cross-origin protection, body size limit), the TLS
// modes (off, self-signed, files, acme), the shared page layout, CSS and error pages, the rendering
// API every part uses for its own embedded templates, the home page, health and readiness endpoints
// and the separate metrics listener.
//
// cmd/rocca builds the Server and mounts every part's handlers on it; auth, mail and the parts (vpn,
// conferencing, helpdesk) import it for Renderer, Error, JSON and Lang; the installer imports it for
// the self-signed pair (SelfSignedPaths, SelfSignedHosts, LoadSelfSigned, CreateSelfSigned), so the
// certificate it prepares is the one the server reuses. It imports only package rocca and
// internal/i18n from this module.
package web
