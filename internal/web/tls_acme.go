package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/caddyserver/certmagic"

	"github.com/rocca-pa/rocca"
)

// acmeSettings is what Serve needs to obtain and renew a certificate with ACME (Let's Encrypt). The
// certmagic objects themselves start goroutines, so they are built only when serving begins.
type acmeSettings struct {
	host       string // the public_url host the certificate is for
	email      string
	storage    string // <DataDir>/acme
	listenHost string // the IP to bind :80 on ("" = all)
	ca         string
	logger     *slog.Logger
}

func newACMESettings(opts Options, public *url.URL, logger *slog.Logger) (*acmeSettings, error) {
	host := ""
	if public != nil {
		host = public.Hostname()
	}
	if host == "" || net.ParseIP(host) != nil || !strings.Contains(host, ".") || strings.HasSuffix(host, ".localhost") {
		return nil, rocca.Localized(rocca.EINVALID, "web.tls.acme_host",
			fmt.Sprintf(`tls = "acme" needs a public_url with a public domain name (now %q)`, opts.PublicURL), opts.PublicURL)
	}
	if opts.DataDir == "" {
		return nil, fmt.Errorf("web: tls acme needs a data directory")
	}
	listenHost, _, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		listenHost = ""
	}
	return &acmeSettings{
		host:       host,
		email:      opts.ACMEEmail,
		storage:    filepath.Join(opts.DataDir, "acme"),
		listenHost: listenHost,
		ca:         certmagic.LetsEncryptProductionCA,
		logger:     logger.With("acme", host),
	}, nil
}

// build makes the certmagic cache, config and issuer (HTTP-01 and TLS-ALPN-01, storage on disk).
// The caller must Stop the cache.
func (a *acmeSettings) build() (*certmagic.Config, *certmagic.ACMEIssuer, *certmagic.Cache) {
	zl := zapToSlog(a.logger)
	var magic *certmagic.Config
	cache := certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return magic, nil },
		Logger:           zl,
	})
	magic = certmagic.New(cache, certmagic.Config{
		Storage: &certmagic.FileStorage{Path: a.storage},
		Logger:  zl,
	})
	issuer := certmagic.NewACMEIssuer(magic, certmagic.ACMEIssuer{
		CA:         a.ca,
		Email:      a.email,
		Agreed:     true,
		ListenHost: a.listenHost,
		Logger:     zl,
	})
	magic.Issuers = []certmagic.Issuer{issuer}
	return magic, issuer, cache
}
