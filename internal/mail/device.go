package mail

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/rocca-pa/rocca"
)

// The device authorization grant (RFC 8628): `rocca mail login` and the installer show a code and
// a URL, the admin approves on any device with a browser, and Rocca polls the token endpoint.

const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Answers of the token endpoint while polling (RFC 8628 section 3.5).
const (
	errAuthorizationPending = "authorization_pending"
	errSlowDown             = "slow_down"
	errAccessDenied         = "access_denied"
	errExpiredToken         = "expired_token"
)

// The states of DeviceProgress.
const (
	DevicePending   = "pending"
	DeviceConnected = "connected"
	DeviceFailed    = "failed"
)

// defaultDeviceLifetime bounds a device sign-in when the provider does not say (expires_in).
const defaultDeviceLifetime = 15 * time.Minute

// DeviceCode is what the admin needs to approve a device sign-in.
type DeviceCode struct {
	ID                      string    `json:"id"` // the server's handle for DeviceWait
	Account                 string    `json:"account"`
	UserCode                string    `json:"user_code"`
	VerificationURI         string    `json:"verification_uri"`
	VerificationURIComplete string    `json:"verification_uri_complete,omitempty"`
	ExpiresAt               time.Time `json:"expires_at"`
	Interval                int       `json:"interval"` // seconds between polls
}

// DeviceProgress is how a device sign-in is going.
type DeviceProgress struct {
	State     string         `json:"state"`      // pending | connected | failed
	Interval  int            `json:"interval"`   // seconds between polls now (slow_down adds 5)
	SlowDowns int            `json:"slow_downs"` // times the provider asked to poll less often
	Polls     int            `json:"polls"`
	Updates   int            `json:"updates"` // grows with every change, for DeviceWait
	Error     string         `json:"error,omitempty"`
	ErrorKey  string         `json:"error_key,omitempty"`
	ErrorArgs []any          `json:"error_args,omitempty"`
	Account   *AccountStatus `json:"account,omitempty"` // when connected
}

// deviceAuth is a started device sign-in: the public code and the secret device_code.
type deviceAuth struct {
	code       DeviceCode
	deviceCode string
}

// deviceAttempt is a device sign-in polled by a goroutine of Run, watched by DeviceWait.
type deviceAttempt struct {
	mu       sync.Mutex
	progress DeviceProgress
	changed  chan struct{} // closed and replaced at every update
	cancel   context.CancelFunc
	ended    time.Time
}

func (d *deviceAttempt) update(f func(*DeviceProgress)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(&d.progress)
	d.progress.Updates++
	close(d.changed)
	d.changed = make(chan struct{})
}

func (d *deviceAttempt) snapshot() (DeviceProgress, chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.progress, d.changed
}

// DeviceStart asks the provider of account name for a device code and polls for the approval in
// the background (owned by Run, which must be running). Watch it with DeviceWait.
func (s *Accounts) DeviceStart(ctx context.Context, name string) (DeviceCode, error) {
	a, err := s.oauthAccount(name)
	if err != nil {
		return DeviceCode{}, err
	}
	s.mu.Lock()
	runCtx := s.runCtx
	s.mu.Unlock()
	if runCtx == nil || runCtx.Err() != nil {
		return DeviceCode{}, rocca.Localized(rocca.EUNAVAILABLE, "mail.device.not_running", "the mail accounts service is not running")
	}
	da, err := s.deviceAuthorize(ctx, a)
	if err != nil {
		return DeviceCode{}, err
	}
	pctx, cancel := context.WithCancel(runCtx)
	att := &deviceAttempt{
		progress: DeviceProgress{State: DevicePending, Interval: da.code.Interval},
		changed:  make(chan struct{}), cancel: cancel,
	}
	s.mu.Lock()
	s.pruneDevices()
	s.devices[da.code.ID] = att
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		st, err := s.deviceFinish(pctx, a, da, att)
		att.update(func(p *DeviceProgress) { finishProgress(p, st, err) })
		s.mu.Lock()
		att.ended = s.now()
		s.mu.Unlock()
	}()
	return da.code, nil
}

// pruneDevices forgets attempts that ended more than 10 minutes ago. Callers hold s.mu.
func (s *Accounts) pruneDevices() {
	for id, d := range s.devices {
		if !d.ended.IsZero() && s.now().Sub(d.ended) > 10*time.Minute {
			delete(s.devices, id)
		}
	}
}

// DeviceWait returns the progress of a device sign-in as soon as it has changed since the caller
// saw update number seen, or after wait.
func (s *Accounts) DeviceWait(ctx context.Context, id string, seen int, wait time.Duration) (DeviceProgress, error) {
	s.mu.Lock()
	att := s.devices[id]
	s.mu.Unlock()
	if att == nil {
		return DeviceProgress{}, rocca.Localized(rocca.ENOTFOUND, "mail.device.unknown", "no such device sign-in (it ended long ago, or the server restarted)")
	}
	p, changed := att.snapshot()
	if p.Updates > seen || p.State != DevicePending {
		return p, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	case <-ctx.Done():
		return DeviceProgress{}, ctx.Err()
	}
	p, _ = att.snapshot()
	return p, nil
}

// DeviceCancel stops polling for a device sign-in (the admin pressed Ctrl-C).
func (s *Accounts) DeviceCancel(id string) {
	s.mu.Lock()
	att := s.devices[id]
	s.mu.Unlock()
	if att != nil {
		att.cancel()
	}
}

// DeviceLogin runs a whole device sign-in in the caller's goroutine, for the installer, which has
// no running server: show gets the code to print, progress (may be nil) every change while waiting.
func (s *Accounts) DeviceLogin(ctx context.Context, name string, show func(DeviceCode), progress func(DeviceProgress)) (AccountStatus, error) {
	a, err := s.oauthAccount(name)
	if err != nil {
		return AccountStatus{}, err
	}
	da, err := s.deviceAuthorize(ctx, a)
	if err != nil {
		return AccountStatus{}, err
	}
	show(da.code)
	att := &deviceAttempt{progress: DeviceProgress{State: DevicePending, Interval: da.code.Interval}, changed: make(chan struct{})}
	reported := make(chan struct{})
	go func() {
		// Report every change, the last one included, before DeviceLogin returns.
		defer close(reported)
		for seen := 0; ; {
			p, changed := att.snapshot()
			if p.Updates > seen && progress != nil {
				seen = p.Updates
				progress(p)
			}
			if p.State != DevicePending {
				return
			}
			<-changed
		}
	}()
	st, err := s.deviceFinish(ctx, a, da, att)
	att.update(func(p *DeviceProgress) { finishProgress(p, st, err) })
	<-reported
	return st, err
}

func finishProgress(p *DeviceProgress, st AccountStatus, err error) {
	if err != nil {
		p.State, p.Error = DeviceFailed, rocca.ErrorMessage(err)
		var re *rocca.Error
		if errors.As(err, &re) {
			p.ErrorKey, p.ErrorArgs = re.Key, re.Args
		}
		return
	}
	p.State, p.Account = DeviceConnected, &st
}

// deviceFinish polls until the admin approves, then stores the sign-in.
func (s *Accounts) deviceFinish(ctx context.Context, a *Account, da *deviceAuth, att *deviceAttempt) (AccountStatus, error) {
	tok, err := s.pollDevice(ctx, a, da, att)
	if err != nil {
		s.logger.Warn("device sign-in ended without approval", "account", a.cfg.Name, "err", err)
		return AccountStatus{}, err
	}
	if err := a.connect(ctx, tok); err != nil {
		return AccountStatus{}, err
	}
	return s.status(ctx, a)
}

// deviceAuthorize is the device authorization request (RFC 8628 section 3.1).
func (s *Accounts) deviceAuthorize(ctx context.Context, a *Account) (*deviceAuth, error) {
	if !a.provider.DeviceGrant {
		return nil, rocca.Localized(rocca.EINVALID, "mail.device.not_supported",
			"the provider "+a.cfg.OAuth2.Provider+" does not allow signing in from a terminal for mail: sign in at "+s.publicURL+"/admin/mail",
			a.cfg.OAuth2.Provider, s.publicURL+"/admin/mail")
	}
	cfg, err := a.oauth2Config()
	if err != nil {
		return nil, err
	}
	res, err := cfg.DeviceAuth(s.clientContext(ctx))
	if err != nil {
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "mail.device.start_failed",
			"the provider did not start the sign-in: "+providerReason(err), providerReason(err))
	}
	if res.DeviceCode == "" || res.UserCode == "" || res.VerificationURI == "" {
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "mail.device.start_failed",
			"the provider did not start the sign-in: incomplete answer", "incomplete answer")
	}
	interval := int(res.Interval)
	if interval <= 0 {
		interval = 5 // RFC 8628 section 3.2: the default
	}
	expires := res.Expiry
	if expires.IsZero() {
		expires = s.now().Add(defaultDeviceLifetime)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &deviceAuth{
		code: DeviceCode{
			ID: base64.RawURLEncoding.EncodeToString(id), Account: a.cfg.Name, UserCode: res.UserCode,
			VerificationURI: res.VerificationURI, VerificationURIComplete: res.VerificationURIComplete,
			ExpiresAt: expires, Interval: interval,
		},
		deviceCode: res.DeviceCode,
	}, nil
}

// pollDevice asks the token endpoint every interval until the admin approves (RFC 8628 section
// 3.4-3.5): authorization_pending waits, slow_down adds 5 s to the interval for good, and
// access_denied, expired_token or the code's lifetime end it with a message saying what to do.
func (s *Accounts) pollDevice(ctx context.Context, a *Account, da *deviceAuth, att *deviceAttempt) (*oauth2.Token, error) {
	ctx, cancel := context.WithDeadline(ctx, da.code.ExpiresAt)
	defer cancel()
	interval := time.Duration(da.code.Interval) * time.Second
	for {
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, errDeviceExpired()
			}
			return nil, rocca.Localized(rocca.EUNAVAILABLE, "mail.device.cancelled", "the sign-in was cancelled")
		case <-t.C:
		}
		tok, code, err := s.deviceToken(ctx, a, da.deviceCode)
		att.update(func(p *DeviceProgress) { p.Polls++ })
		switch {
		case err == nil:
			return tok, nil
		case code == errAuthorizationPending:
		case code == errSlowDown:
			interval += 5 * time.Second
			att.update(func(p *DeviceProgress) { p.SlowDowns++; p.Interval = int(interval / time.Second) })
		case code == errAccessDenied:
			return nil, rocca.Localized(rocca.EFORBIDDEN, "mail.device.denied",
				"the sign-in was refused at the provider's page: run the command again and approve it")
		case code == errExpiredToken:
			return nil, errDeviceExpired()
		case ctx.Err() != nil:
			// The deadline or a cancel cut the request: the next turn says which.
		case code != "":
			return nil, rocca.Localized(rocca.EUNAVAILABLE, "mail.device.failed",
				"the provider refused the sign-in: "+providerReason(err), providerReason(err))
		default:
			// A network error: keep polling until the code expires.
			s.logger.Warn("device sign-in: polling the provider failed; trying again", "account", a.cfg.Name, "err", err)
		}
	}
}

func errDeviceExpired() error {
	return rocca.Localized(rocca.EGONE, "mail.device.expired",
		"the code expired before it was approved: run the command again and approve within the time shown")
}

// deviceToken is one poll of the token endpoint. It returns the token, or the error code the
// endpoint answered ("" for a network or decoding error) and the error.
func (s *Accounts) deviceToken(ctx context.Context, a *Account, deviceCode string) (*oauth2.Token, string, error) {
	cfg, err := a.oauth2Config()
	if err != nil {
		return nil, "", err
	}
	form := url.Values{"grant_type": {deviceGrantType}, "device_code": {deviceCode}}
	basic := cfg.ClientSecret != "" && cfg.Endpoint.AuthStyle == oauth2.AuthStyleInHeader
	if !basic {
		form.Set("client_id", cfg.ClientID)
		if cfg.ClientSecret != "" {
			form.Set("client_secret", cfg.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, "", err
	}
	if basic {
		req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := s.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, "", err
	}
	return parseTokenResponse(res.StatusCode, body, s.now())
}

// parseTokenResponse reads a token endpoint's answer (RFC 6749 sections 5.1 and 5.2).
func parseTokenResponse(status int, body []byte, now time.Time) (*oauth2.Token, string, error) {
	var r struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, "", fmt.Errorf("token endpoint answered %d with no JSON", status)
	}
	if r.Error != "" {
		return nil, r.Error, &oauth2.RetrieveError{ErrorCode: r.Error, ErrorDescription: r.Description}
	}
	if status/100 != 2 {
		return nil, "", fmt.Errorf("token endpoint answered %d", status)
	}
	if r.AccessToken == "" {
		return nil, "", errors.New("token endpoint answered without an access token")
	}
	var extra map[string]any
	json.Unmarshal(body, &extra)
	tok := &oauth2.Token{AccessToken: r.AccessToken, TokenType: r.TokenType, RefreshToken: r.RefreshToken}
	if r.ExpiresIn > 0 {
		tok.Expiry = now.Add(time.Duration(r.ExpiresIn) * time.Second)
	}
	return tok.WithExtra(extra), "", nil
}

// providerReason is the provider's error for people: its code and description, never a body
// that could echo a token.
func providerReason(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return strings.TrimSpace(re.ErrorCode + " " + re.ErrorDescription)
	}
	return err.Error()
}
