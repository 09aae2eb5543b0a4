// Package oauthtest is a small OAuth2 provider for tests, on loopback: authorization code with
// PKCE (a consent page with "Consenti" and "Rifiuta"), refresh tokens, the device authorization
// grant (RFC 8628) with scriptable answers, and a userinfo endpoint that mail servers (Dovecot's
// oauth2 passdb) use to check access tokens. Tests revoke tokens, shorten lifetimes and count
// calls through its methods. Only tests import it.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The client the provider knows.
const (
	ClientID     = "rocca-test-client"
	ClientSecret = "rocca-test-secret"
)

// Provider is the fake identity provider. The zero value is not usable: call New.
type Provider struct {
	URL string // base URL, e.g. http://127.0.0.1:41234

	mu sync.Mutex
	// Email is the mailbox that signs in (the "email" claim and the userinfo answer).
	Email string
	// Scopes are the scopes granted (echoed in token answers).
	Scopes []string
	// AccessTTL is the lifetime of access tokens (default one hour).
	AccessTTL time.Duration
	// RotateRefresh makes every refresh return a new refresh token and retire the old one.
	RotateRefresh bool
	// DeviceInterval and DeviceTTL are the interval and expires_in of device codes (1 s, 10 min).
	DeviceInterval int
	DeviceTTL      time.Duration
	// RequireSecret makes the token endpoint insist on ClientSecret.
	RequireSecret bool

	codes    map[string]*authCode
	access   map[string]*accessToken
	refresh  map[string]bool // refresh token -> still valid
	devices  map[string]*device
	byUser   map[string]*device
	counts   map[string]int
	srv      *httptest.Server
	denyNext bool
	redirect string // where the consent page last sent the browser
}

type authCode struct {
	redirect, challenge, state string
	used                       bool
}

type accessToken struct {
	expires time.Time
	revoked bool
}

// DevicePoll is one poll of the token endpoint for a device code: when it came and the answer.
type DevicePoll struct {
	At     time.Time
	Answer string // "token" or the error code
}

type device struct {
	code, userCode string
	interval       time.Duration
	expires        time.Time
	approved       bool
	denied         bool
	script         []string // answers given before looking at the state
	polls          []DevicePoll
	issued         bool
}

// New starts a provider on loopback; it stops when the test ends.
func New(t testing.TB) *Provider {
	t.Helper()
	p := &Provider{
		Email:          "helpdesk@comune.example.it",
		Scopes:         []string{"mail", "offline_access"},
		AccessTTL:      time.Hour,
		DeviceInterval: 1,
		DeviceTTL:      10 * time.Minute,
		codes:          map[string]*authCode{},
		access:         map[string]*accessToken{},
		refresh:        map[string]bool{},
		devices:        map[string]*device{},
		byUser:         map[string]*device{},
		counts:         map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", p.authorizeShow)
	mux.HandleFunc("POST /authorize", p.authorizeSubmit)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("POST /device", p.deviceAuthorize)
	mux.HandleFunc("GET /device/verify", p.deviceVerify)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// Endpoints.
func (p *Provider) AuthURL() string     { return p.URL + "/authorize" }
func (p *Provider) TokenURL() string    { return p.URL + "/token" }
func (p *Provider) DeviceURL() string   { return p.URL + "/device" }
func (p *Provider) UserinfoURL() string { return p.URL + "/userinfo" }

// Set changes the provider's settings under its lock.
func (p *Provider) Set(f func(p *Provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// Count returns how many times an event happened: "authorize", "code", "refresh", "device",
// "device_token", "userinfo", "userinfo_ok", "invalid_grant".
func (p *Provider) Count(event string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[event]
}

// RefreshTokens returns every refresh token issued, valid or not.
func (p *Provider) RefreshTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for rt := range p.refresh {
		out = append(out, rt)
	}
	return out
}

// AccessTokens returns every access token issued.
func (p *Provider) AccessTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for at := range p.access {
		out = append(out, at)
	}
	return out
}

// RevokeRefreshTokens makes every refresh token fail with invalid_grant (consent revoked,
// password changed).
func (p *Provider) RevokeRefreshTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for rt := range p.refresh {
		p.refresh[rt] = false
	}
}

// RevokeAccessTokens makes every access token issued so far fail at userinfo, before its expiry.
func (p *Provider) RevokeAccessTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.access {
		a.revoked = true
	}
}

// ValidAccess reports whether token is a live access token and returns the mailbox it is for:
// what a mail server in a test checks.
func (p *Provider) ValidAccess(token string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.access[token]
	if !ok || a.revoked || time.Now().After(a.expires) {
		return "", false
	}
	return p.Email, true
}

// ScriptDevice queues answers ("authorization_pending", "slow_down", "expired_token",
// "access_denied") that the device with userCode gives to its next polls, before its real state.
func (p *Provider) ScriptDevice(userCode string, answers ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.byUser[userCode]; d != nil {
		d.script = append(d.script, answers...)
	}
}

// ApproveDevice approves the sign-in with userCode, as the admin does on the provider's page.
func (p *Provider) ApproveDevice(userCode string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.byUser[userCode]
	if d != nil {
		d.approved = true
	}
	return d != nil
}

// DenyDevice refuses the sign-in with userCode.
func (p *Provider) DenyDevice(userCode string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.byUser[userCode]
	if d != nil {
		d.denied = true
	}
	return d != nil
}

// DenyNextConsent makes the next consent page answer access_denied, as if the admin clicked Rifiuta.
func (p *Provider) DenyNextConsent() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.denyNext = true
}

// LastRedirect is the callback URL, with code and state, that the consent page last sent the
// browser to: what an attacker who saw it would replay.
func (p *Provider) LastRedirect() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.redirect
}

// DevicePolls returns the polls of the device with userCode.
func (p *Provider) DevicePolls(userCode string) []DevicePoll {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.byUser[userCode]; d != nil {
		return slices.Clone(d.polls)
	}
	return nil
}

// UserCodes returns the user codes handed out, oldest first.
func (p *Provider) UserCodes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*device
	for _, d := range p.byUser {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *device) int { return a.expires.Compare(b.expires) })
	codes := make([]string, len(out))
	for i, d := range out {
		codes[i] = d.userCode
	}
	return codes
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorizeShow is the consent page: it checks the request and offers Consenti and Rifiuta.
func (p *Provider) authorizeShow(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.counts["authorize"]++
	deny, email := p.denyNext, p.Email
	p.mu.Unlock()
	if q.Get("client_id") != ClientID || q.Get("response_type") != "code" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html lang="it"><head><title>Fornitore di prova</title></head><body>
<h1>Accesso a %s</h1><p id="scopes">%s</p>
<form method="post" action="/authorize">`, html.EscapeString(email), html.EscapeString(q.Get("scope")))
	for _, k := range []string{"redirect_uri", "state", "code_challenge", "scope"} {
		fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s">`, k, html.EscapeString(q.Get(k)))
	}
	if deny {
		fmt.Fprint(w, `<input type="hidden" name="deny" value="1">`)
	}
	fmt.Fprint(w, `<button id="allow" name="decision" value="allow">Consenti</button>
<button id="deny" name="decision" value="deny">Rifiuta</button></form></body></html>`)
}

func (p *Provider) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	redirect, err := url.Parse(r.PostForm.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := redirect.Query()
	q.Set("state", r.PostForm.Get("state"))
	p.mu.Lock()
	deny := r.PostForm.Get("decision") == "deny" || r.PostForm.Get("deny") == "1"
	p.denyNext = false
	if deny {
		q.Set("error", "access_denied")
		q.Set("error_description", "the user refused")
	} else {
		code := random(24)
		p.codes[code] = &authCode{redirect: r.PostForm.Get("redirect_uri"), challenge: r.PostForm.Get("code_challenge"), state: r.PostForm.Get("state")}
		q.Set("code", code)
	}
	redirect.RawQuery = q.Encode()
	p.redirect = redirect.String()
	p.mu.Unlock()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token is the token endpoint: authorization_code (with PKCE), refresh_token and device_code.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f := r.PostForm
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if id != ClientID || (p.RequireSecret && secret != ClientSecret) {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		p.counts["code"]++
		c := p.codes[f.Get("code")]
		if c == nil || c.used || c.redirect != f.Get("redirect_uri") || !pkceMatches(c.challenge, f.Get("code_verifier")) {
			if c != nil {
				c.used = true
			}
			p.counts["invalid_grant"]++
			tokenError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown, used, or does not match")
			return
		}
		c.used = true
		p.issue(w, "")
	case "refresh_token":
		p.counts["refresh"]++
		rt := f.Get("refresh_token")
		if !p.refresh[rt] {
			p.counts["invalid_grant"]++
			tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: the refresh token has expired or was revoked")
			return
		}
		if p.RotateRefresh {
			p.refresh[rt] = false
			rt = ""
		}
		p.issue(w, rt)
	case "urn:ietf:params:oauth:grant-type:device_code":
		p.counts["device_token"]++
		p.devicePoll(w, f.Get("device_code"))
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

// issue answers with a new access token, and a new refresh token unless keep names the one in
// use. Callers hold p.mu.
func (p *Provider) issue(w http.ResponseWriter, keep string) {
	at := random(32)
	p.access[at] = &accessToken{expires: time.Now().Add(p.AccessTTL)}
	body := map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": int(p.AccessTTL / time.Second),
		"scope": strings.Join(p.Scopes, " "), "id_token": p.idToken(),
	}
	if keep == "" {
		rt := random(32)
		p.refresh[rt] = true
		body["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(body)
}

// idToken is an unsigned JWT with the email claim, enough for Rocca to show who signed in.
func (p *Provider) idToken() string {
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"iss": p.URL, "aud": ClientID, "email": p.Email, "exp": time.Now().Add(time.Hour).Unix()})
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(claims) + ".sig"
}

func pkceMatches(challenge, verifier string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// deviceAuthorize starts a device sign-in (RFC 8628 section 3.2).
func (p *Provider) deviceAuthorize(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts["device"]++
	if r.PostForm.Get("client_id") != ClientID {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "")
		return
	}
	d := &device{
		code: random(24), userCode: userCode(),
		interval: time.Duration(p.DeviceInterval) * time.Second, expires: time.Now().Add(p.DeviceTTL),
	}
	p.devices[d.code] = d
	p.byUser[d.userCode] = d
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"device_code": d.code, "user_code": d.userCode,
		"verification_uri":          p.URL + "/device/verify",
		"verification_uri_complete": p.URL + "/device/verify?user_code=" + d.userCode,
		"expires_in":                int(p.DeviceTTL / time.Second), "interval": p.DeviceInterval,
	})
}

func userCode() string {
	const letters = "BCDFGHJKLMNPQRSTVWXZ"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// devicePoll answers one poll: the scripted answers first, then the device's state. Callers hold p.mu.
func (p *Provider) devicePoll(w http.ResponseWriter, code string) {
	d := p.devices[code]
	if d == nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown device code")
		return
	}
	answer := ""
	switch {
	case len(d.script) > 0:
		answer, d.script = d.script[0], d.script[1:]
	case d.issued:
		answer = "invalid_grant"
	case time.Now().After(d.expires):
		answer = "expired_token"
	case d.denied:
		answer = "access_denied"
	case d.approved:
		answer = "token"
	default:
		answer = "authorization_pending"
	}
	if answer == "slow_down" {
		d.interval += 5 * time.Second
	}
	d.polls = append(d.polls, DevicePoll{At: time.Now(), Answer: answer})
	if answer != "token" {
		tokenError(w, http.StatusBadRequest, answer, "")
		return
	}
	d.issued = true
	p.issue(w, "")
}

// deviceVerify is the page the user would open; tests approve with ApproveDevice instead.
func (p *Provider) deviceVerify(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "Inserisci il codice %s", html.EscapeString(r.URL.Query().Get("user_code")))
}

// userinfo answers for a live access token sent as "Authorization: Bearer …" (what Dovecot's
// oauth2 passdb with introspection_mode = auth sends), 401 otherwise.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	p.counts["userinfo"]++
	p.mu.Unlock()
	email, valid := p.ValidAccess(token)
	p.mu.Lock()
	_, known := p.access[token]
	owner := p.Email
	p.mu.Unlock()
	if ok && known && !valid {
		// An expired or revoked token of a known user: the user, marked inactive. Dovecot 2.3 turns
		// this into a plain authentication failure; a bare 401 becomes a "temporary failure",
		// which it answers only after a delay and with the connection closed.
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"email": owner, "sub": "1", "active": "false"})
		return
	}
	if !ok || !valid {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		tokenError(w, http.StatusUnauthorized, "invalid_token", "")
		return
	}
	p.mu.Lock()
	p.counts["userinfo_ok"]++
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"email": email, "sub": "1", "active": "true"})
}
