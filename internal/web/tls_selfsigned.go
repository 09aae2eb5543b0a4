package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rocca-pa/rocca"
)

// selfSignedValidity is how long a generated certificate lasts; it is regenerated once expired.
const selfSignedValidity = 365 * 24 * time.Hour

// loadOrCreateSelfSigned reuses <dataDir>/tls/self-signed.{crt,key} while they are valid and cover
// hosts (public_url may have changed), and otherwise generates a new pair. A pair that exists but
// cannot be read is an error, never silently replaced.
func loadOrCreateSelfSigned(dataDir string, hosts []string, logger *slog.Logger) (*tls.Certificate, error) {
	dir := filepath.Join(dataDir, "tls")
	certPath, keyPath := filepath.Join(dir, "self-signed.crt"), filepath.Join(dir, "self-signed.key")
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	switch {
	case err == nil && cert.Leaf != nil:
		now := time.Now()
		if now.Before(cert.Leaf.NotAfter) && coversHosts(cert.Leaf, hosts) {
			return &cert, nil
		}
		logger.Info("regenerating the self-signed certificate", "file", certPath,
			"expired", !now.Before(cert.Leaf.NotAfter), "hosts", hosts)
	case err == nil || errors.Is(err, fs.ErrNotExist):
		// first start, or half a pair: generate
	default:
		e := rocca.Localized(rocca.EINVALID, "web.tls.self_signed_unreadable",
			fmt.Sprintf("the self-signed certificate %s or its key %s cannot be read", certPath, keyPath), certPath, keyPath)
		e.Err = err
		return nil, e
	}
	return createSelfSigned(dir, certPath, keyPath, hosts, logger)
}

func coversHosts(leaf *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
				return false
			}
		} else if !slices.Contains(leaf.DNSNames, h) {
			return false
		}
	}
	return true
}

func createSelfSigned(dir, certPath, keyPath string, hosts []string, logger *slog.Logger) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("web: self-signed key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("web: self-signed serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"Rocca"}},
		NotBefore:             now.Add(-time.Hour), // tolerate clocks slightly behind
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, // not a CA: browsers refuse a CA certificate used by a server
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("web: self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("web: self-signed key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, selfSignedWriteError(dir, err)
	}
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, selfSignedWriteError(keyPath, err)
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return nil, selfSignedWriteError(certPath, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("web: self-signed pair: %w", err)
	}
	logger.Info("self-signed certificate created", "file", certPath, "hosts", hosts,
		"not_after", tmpl.NotAfter.Format(time.RFC3339))
	return &cert, nil
}

func selfSignedWriteError(path string, err error) error {
	e := rocca.Localized(rocca.EUNAVAILABLE, "web.tls.self_signed_write",
		fmt.Sprintf("cannot write %s", path), path, err.Error())
	e.Err = err
	return e
}

// writeFileAtomic writes data to a temporary file with perm and renames it over path, so a crash
// never leaves half a key.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
