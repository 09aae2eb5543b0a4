package installer

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rocca-pa/rocca/internal/config"
)

// tlsStep prepares the certificate for the chosen mode: a self-signed pair in the data directory
// (kept while valid for the public name), a check that the given files form a pair, or the ACME
// storage directory. Without TLS there is nothing to do.
type tlsStep struct{}

func (tlsStep) name() string { return "tls" }

func (tlsStep) plan(_ context.Context, p *Plan) (Change, error) {
	s := p.answers.Config.Server
	switch s.TLS {
	case config.TLSSelfSigned:
		return planSelfSigned(p)
	case config.TLSFiles:
		if _, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile); err != nil {
			return Change{}, fmt.Errorf("server.cert_file %s, server.key_file %s: %w", s.CertFile, s.KeyFile, err)
		}
		return Change{Action: Keep, Target: s.CertFile, Msg: "installer.step.tls.files", Args: []any{s.CertFile}}, nil
	case config.TLSACME:
		dir := filepath.Join(s.DataDir, "acme")
		if exists(dir) {
			return Change{Action: Keep, Target: dir, Msg: "installer.step.tls.acme_keep", Args: []any{dir}}, nil
		}
		return Change{Action: Create, Target: dir, Msg: "installer.step.tls.acme_create", Args: []any{dir}}, nil
	}
	return Change{Action: Skip, Msg: "installer.step.tls.off"}, nil
}

func planSelfSigned(p *Plan) (Change, error) {
	certPath, keyPath := selfSignedPaths(p.answers.Config.Server.DataDir)
	c := Change{Target: certPath, Args: []any{certPath}}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	switch {
	case err == nil && cert.Leaf != nil && p.inst.Sys.Now().Before(cert.Leaf.NotAfter) && coversHosts(cert, selfSignedHosts(p.answers.Config)):
		c.Action, c.Msg = Keep, "installer.step.tls.self_signed_keep"
		p.Outcome.CertFingerprint = fingerprint(cert.Certificate[0])
	case exists(certPath) || exists(keyPath):
		c.Action, c.Msg = Update, "installer.step.tls.self_signed_update"
	default:
		c.Action, c.Msg = Create, "installer.step.tls.self_signed_create"
	}
	return c, nil
}

func (tlsStep) apply(_ context.Context, p *Plan) error {
	s := p.answers.Config.Server
	if s.TLS == config.TLSACME {
		return os.MkdirAll(filepath.Join(s.DataDir, "acme"), 0o700)
	}
	certPath, keyPath := selfSignedPaths(s.DataDir)
	der, err := createSelfSigned(certPath, keyPath, selfSignedHosts(p.answers.Config), p.inst.Sys.Now())
	if err != nil {
		return err
	}
	p.Outcome.CertFingerprint = fingerprint(der)
	return nil
}

// selfSignedPaths is where the web server looks for its self-signed pair.
func selfSignedPaths(dataDir string) (cert, key string) {
	dir := filepath.Join(dataDir, "tls")
	return filepath.Join(dir, "self-signed.crt"), filepath.Join(dir, "self-signed.key")
}

// fingerprint is the certificate's SHA-256, as browsers show it: AB:CD:…
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	hexs := strings.ToUpper(hex.EncodeToString(sum[:]))
	pairs := make([]string, 0, len(sum))
	for i := 0; i < len(hexs); i += 2 {
		pairs = append(pairs, hexs[i:i+2])
	}
	return strings.Join(pairs, ":")
}

// selfSignedValidity matches the web server's: it regenerates the pair once expired.
const selfSignedValidity = 365 * 24 * time.Hour
