package web

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rocca-pa/rocca"
)

// tlsState is how the server obtains its certificate; nil means plain HTTP.
type tlsState struct {
	expiry *prometheus.GaugeVec
	fixed  *tls.Certificate // self-signed
	files  *fileCert        // files
	acme   *acmeSettings    // acme
}

func newTLSState(opts Options, public *url.URL, logger *slog.Logger, expiry *prometheus.GaugeVec) (*tlsState, error) {
	t := &tlsState{expiry: expiry}
	switch opts.TLS {
	case TLSOff:
		return nil, nil
	case TLSSelfSigned:
		if opts.DataDir == "" {
			return nil, errors.New("web: tls self-signed needs a data directory")
		}
		cert, err := loadOrCreateSelfSigned(opts.DataDir, SelfSignedHosts(opts.Listen, opts.PublicURL), logger)
		if err != nil {
			return nil, err
		}
		t.fixed = cert
		t.setExpiry(TLSSelfSigned, cert.Leaf)
	case TLSFiles:
		if opts.CertFile == "" || opts.KeyFile == "" {
			return nil, rocca.Localized(rocca.EINVALID, "web.tls.files_missing",
				`tls = "files" needs both server.cert_file and server.key_file`)
		}
		f, err := newFileCert(opts.CertFile, opts.KeyFile, logger, func(c *x509.Certificate) { t.setExpiry(TLSFiles, c) })
		if err != nil {
			return nil, err
		}
		t.files = f
	case TLSACME:
		a, err := newACMESettings(opts, public, logger)
		if err != nil {
			return nil, err
		}
		t.acme = a
	default:
		return nil, rocca.Localized(rocca.EINVALID, "web.tls.mode_invalid",
			fmt.Sprintf("server.tls %q is not one of off, self-signed, files, acme", opts.TLS), opts.TLS)
	}
	return t, nil
}

func (t *tlsState) setExpiry(source string, leaf *x509.Certificate) {
	if leaf != nil {
		t.expiry.WithLabelValues(source).Set(float64(leaf.NotAfter.Unix()))
	}
}

// config returns the TLS configuration for Serve, the wrapper that answers ACME HTTP-01 challenges
// on port 80 (identity outside acme mode) and a function that releases what config started.
func (t *tlsState) config(ctx context.Context) (*tls.Config, func(http.Handler) http.Handler, func(), error) {
	cfg := serverTLSConfig()
	identity := func(h http.Handler) http.Handler { return h }
	switch {
	case t.fixed != nil:
		cfg.Certificates = []tls.Certificate{*t.fixed}
		return cfg, identity, func() {}, nil
	case t.files != nil:
		cfg.GetCertificate = t.files.getCertificate
		return cfg, identity, func() {}, nil
	}
	magic, issuer, cache := t.acme.build()
	if err := magic.ManageAsync(ctx, []string{t.acme.host}); err != nil {
		cache.Stop()
		return nil, nil, nil, fmt.Errorf("web: acme: manage %s: %w", t.acme.host, err)
	}
	cfg.NextProtos = append(cfg.NextProtos, magic.TLSConfig().NextProtos...)
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cert, err := magic.GetCertificate(hello)
		if err == nil && cert != nil && !slices.Contains(hello.SupportedProtos, "acme-tls/1") {
			t.setExpiry(TLSACME, cert.Leaf)
		}
		return cert, err
	}
	return cfg, issuer.HTTPChallengeHandler, cache.Stop, nil
}
