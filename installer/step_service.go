package installer

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/rocca-pa/rocca/internal/config"
)

// serviceStep enables the unit and (re)starts it when anything changed. Under a prefix, or where
// systemd does not run (a container), it does nothing and the summary says how to start Rocca.
type serviceStep struct{}

func (serviceStep) name() string { return "service" }

func (serviceStep) plan(ctx context.Context, p *Plan) (Change, error) {
	c := Change{Target: UnitName, Args: []any{UnitName}}
	switch {
	case !p.inst.Paths.System():
		c.Action, c.Msg = Skip, "installer.step.service.skip_prefix"
		return c, nil
	case !p.inst.Sys.Systemd().Running || !p.inst.Sys.HasCommand("systemctl"):
		c.Action, c.Msg = Skip, "installer.step.service.skip_systemd"
		return c, nil
	}
	_, activeErr := p.inst.Sys.Command(ctx, "systemctl", "is-active", "--quiet", UnitName)
	_, enabledErr := p.inst.Sys.Command(ctx, "systemctl", "is-enabled", "--quiet", UnitName)
	switch {
	case activeErr != nil || enabledErr != nil:
		c.Action, c.Msg = Create, "installer.step.service.start"
	case p.Changed():
		c.Action, c.Msg = Update, "installer.step.service.restart"
	default:
		c.Action, c.Msg = Keep, "installer.step.service.keep"
	}
	return c, nil
}

func (serviceStep) apply(ctx context.Context, p *Plan) error {
	for _, args := range [][]string{{"daemon-reload"}, {"enable", UnitName}, {"restart", UnitName}} {
		if out, err := p.inst.Sys.Command(ctx, "systemctl", args...); err != nil {
			return commandError("systemctl "+args[0], out, err)
		}
	}
	p.Outcome.ServiceStarted = true
	return nil
}

// healthStep waits until the started service answers /healthz.
type healthStep struct{}

func (healthStep) name() string { return "health" }

func (healthStep) plan(_ context.Context, p *Plan) (Change, error) {
	u := healthURL(p.answers.Config)
	switch svc := p.changeOf("service"); {
	case svc.Changes():
		return Change{Action: Create, Target: u, Msg: "installer.step.health.wait", Args: []any{u}}, nil
	case svc.Action == Keep:
		return Change{Action: Keep, Target: u, Msg: "installer.step.health.keep", Args: []any{u}}, nil
	}
	return Change{Action: Skip, Target: u, Msg: "installer.step.health.skip"}, nil
}

func (healthStep) apply(ctx context.Context, p *Plan) error {
	err := waitHealthy(ctx, p.answers.Config, p.inst.healthTimeout())
	p.Outcome.Healthy = err == nil
	return err
}

// healthURL is /healthz on the address the server listens on, as seen from this machine.
func healthURL(cfg *config.Config) string {
	host, port, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "https"
	if cfg.Server.TLS == config.TLSOff {
		scheme = "http"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
}

// ErrNotHealthy is returned when the service did not answer in time.
var ErrNotHealthy = errors.New("the service did not become healthy in time")

// waitHealthy polls /healthz until it answers 200. With ACME the certificate may take a while, so
// an accepted connection is enough there. The certificate is not verified: this is the server we
// just started, asked through loopback.
func waitHealthy(ctx context.Context, cfg *config.Config, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := healthURL(cfg)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback liveness probe
	}}
	defer client.CloseIdleConnections()
	for {
		if healthyOnce(ctx, client, cfg, u) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ErrNotHealthy
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func healthyOnce(ctx context.Context, client *http.Client, cfg *config.Config, u string) bool {
	if cfg.Server.TLS == config.TLSACME {
		pu, _ := url.Parse(u)
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", pu.Host)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
