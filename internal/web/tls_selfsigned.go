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
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rocca-pa/rocca"
)

// selfSignedValidity is how long a generated certificate lasts; it is regenerated once expired.
const selfSignedValidity = 365 * 24 * time.Hour

// SelfSignedPaths is where the self-signed pair lives: <dataDir>/tls/self-signed.{crt,key}. The
// installer prepares the same files, so the server reuses the pair it made.
func SelfSignedPaths(dataDir string) (certPath, keyPath string) {
	dir := filepath.Join(dataDir, "tls")
	return filepath.Join(dir, "self-signed.crt"), filepath.Join(dir, "self-signed.key")
}

// SelfSignedHosts are the names a self-signed certificate covers: the host of publicURL (when it
// has one), the listen address when it is a specific IP, and loopback.
func SelfSignedHosts(listen, publicURL string) []string {
	var hosts []string
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	if h, _, err := net.SplitHostPort(listen); err == nil {
		if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() {
			hosts = append(hosts, ip.String())
		}
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// LoadSelfSigned reads the pair in dataDir without writing anything, so the installer can plan.
// cert is the pair when it could be read; usable says it is still valid at now and covers hosts
// (public_url may have changed), otherwise it must be regenerated. A missing pair, or half of one,
// is (nil, false, nil); a pair that exists but cannot be read is an error.
func LoadSelfSigned(dataDir string, hosts []string, now time.Time) (cert *tls.Certificate, usable bool, err error) {
	certPath, keyPath := SelfSignedPaths(dataDir)
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	switch {
	case err == nil && c.Leaf != nil:
		return &c, now.Before(c.Leaf.NotAfter) && coversHosts(c.Leaf, hosts), nil
	case err == nil || errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	}
	e := rocca.Localized(rocca.EINVALID, "web.tls.self_signed_unreadable",
		fmt.Sprintf("the self-signed certificate %s or its key %s cannot be read", certPath, keyPath), certPath, keyPath)
	e.Err = err
	return nil, false, e
}

// loadOrCreateSelfSigned reuses the pair in dataDir while it is usable for hosts and otherwise
// generates a new one. A pair that exists but cannot be read is an error, never silently replaced.
func loadOrCreateSelfSigned(dataDir string, hosts []string, logger *slog.Logger) (*tls.Certificate, error) {
	now := time.Now()
	cert, usable, err := LoadSelfSigned(dataDir, hosts, now)
	if err != nil {
		return nil, err
	}
	if usable {
		return cert, nil
	}
	certPath, _ := SelfSignedPaths(dataDir)
	if cert != nil {
		logger.Info("regenerating the self-signed certificate", "file", certPath,
			"expired", !now.Before(cert.Leaf.NotAfter), "hosts", hosts)
	}
	if cert, err = CreateSelfSigned(dataDir, hosts, now); err != nil {
		return nil, err
	}
	logger.Info("self-signed certificate created", "file", certPath, "hosts", hosts,
		"not_after", cert.Leaf.NotAfter.Format(time.RFC3339))
	return cert, nil
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

// CreateSelfSigned writes a new ECDSA P-256 pair for hosts (the first is the subject), valid from
// now for a year, over SelfSignedPaths(dataDir): key 0600, certificate 0644, each replaced
// atomically.
func CreateSelfSigned(dataDir string, hosts []string, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("web: self-signed key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("web: self-signed serial: %w", err)
	}
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
	certPath, keyPath := SelfSignedPaths(dataDir)
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return nil, selfSignedWriteError(filepath.Dir(certPath), err)
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
