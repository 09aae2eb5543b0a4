package web

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/rocca-pa/rocca"
)

func newTLSServer(t *testing.T, opts Options) (*Server, *prometheus.Registry, error) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(opts, slog.New(slog.DiscardHandler), testCatalog(t), reg)
	return s, reg, err
}

func TestSelfSignedGeneratedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	opts := Options{TLS: TLSSelfSigned, DataDir: dir, PublicURL: "https://rocca.comune.example.it", Listen: "127.0.0.1:0"}
	_, reg, err := newTLSServer(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "tls", "self-signed.crt"), filepath.Join(dir, "tls", "self-signed.key")
	first, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	firstKey, _ := os.ReadFile(keyPath)
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}

	if _, _, err := newTLSServer(t, opts); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(certPath)
	secondKey, _ := os.ReadFile(keyPath)
	if !bytes.Equal(first, second) || !bytes.Equal(firstKey, secondKey) {
		t.Fatal("the second New regenerated the certificate instead of reusing it")
	}

	leaf := parseCert(t, first)
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || leaf.PublicKey.(*ecdsa.PublicKey).Curve != elliptic.P256() {
		t.Errorf("key is not ECDSA P-256: %T", leaf.PublicKey)
	}
	for _, host := range []string{"rocca.comune.example.it", "localhost", "127.0.0.1"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("certificate does not cover %s: %v", host, err)
		}
	}
	if leaf.IsCA {
		t.Error("self-signed server certificate marked as CA")
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life < 364*24*time.Hour || life > 366*24*time.Hour {
		t.Errorf("validity %v, want about one year", life)
	}
	if got := expiryMetric(t, reg, TLSSelfSigned); got != float64(leaf.NotAfter.Unix()) {
		t.Errorf("expiry metric %v, want %d", got, leaf.NotAfter.Unix())
	}
}

// expiryMetric returns the value of rocca_tls_certificate_expiry_seconds{source}.
func expiryMetric(t *testing.T, reg *prometheus.Registry, source string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "rocca_tls_certificate_expiry_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == source {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no expiry metric for source %q", source)
	return 0
}

func parseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writePair writes a certificate for host with the given validity and its key, returning the serial.
func writePair(t *testing.T, certPath, keyPath, host string, notBefore, notAfter time.Time) *big.Int {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: notBefore, NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	os.MkdirAll(filepath.Dir(certPath), 0o700)
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return serial
}

func TestSelfSignedRegeneratedWhenExpired(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "tls", "self-signed.crt"), filepath.Join(dir, "tls", "self-signed.key")
	old := writePair(t, certPath, keyPath, "localhost", time.Now().Add(-400*24*time.Hour), time.Now().Add(-time.Hour))
	if _, _, err := newTLSServer(t, Options{TLS: TLSSelfSigned, DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(certPath)
	leaf := parseCert(t, body)
	if leaf.SerialNumber.Cmp(old) == 0 || time.Now().After(leaf.NotAfter) {
		t.Fatalf("expired certificate kept: serial %v not_after %v", leaf.SerialNumber, leaf.NotAfter)
	}
}

func TestSelfSignedUnreadableIsNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	certPath := filepath.Join(dir, "tls", "self-signed.crt")
	os.MkdirAll(filepath.Dir(certPath), 0o700)
	os.WriteFile(certPath, []byte("garbage"), 0o644)
	os.WriteFile(filepath.Join(dir, "tls", "self-signed.key"), []byte("garbage"), 0o600)
	_, _, err := newTLSServer(t, Options{TLS: TLSSelfSigned, DataDir: dir})
	var re *rocca.Error
	if !errors.As(err, &re) || re.Key != "web.tls.self_signed_unreadable" {
		t.Fatalf("err = %v", err)
	}
	if body, _ := os.ReadFile(certPath); string(body) != "garbage" {
		t.Error("unreadable certificate was overwritten")
	}
}

func TestServeSelfSignedTLS(t *testing.T) {
	dir := t.TempDir()
	s, _, err := newTLSServer(t, Options{TLS: TLSSelfSigned, DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	pool := x509.NewCertPool()
	body, _ := os.ReadFile(filepath.Join(dir, "tls", "self-signed.crt"))
	pool.AppendCertsFromPEM(body)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	res, err := client.Get("https://" + s.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "ok\n" {
		t.Fatalf("healthz over TLS: %d %q", res.StatusCode, b)
	}
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS with TLS on")
	}
	if res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS state %+v", res.TLS)
	}
}

func TestFilesModeMissingFileNamesIt(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "site.crt"), filepath.Join(dir, "site.key")
	writePair(t, certPath, keyPath, "rocca.comune.example.it", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	cat := testCatalog(t)
	for _, missing := range []string{certPath, keyPath} {
		opts := Options{TLS: TLSFiles, CertFile: certPath, KeyFile: keyPath}
		if missing == certPath {
			opts.CertFile = filepath.Join(dir, "nope.crt")
		} else {
			opts.KeyFile = filepath.Join(dir, "nope.key")
		}
		_, _, err := newTLSServer(t, opts)
		var re *rocca.Error
		if !errors.As(err, &re) || re.Key != "web.tls.file_read" {
			t.Fatalf("err = %v", err)
		}
		name := filepath.Join(dir, "nope")
		for _, text := range []string{err.Error(), cat.T("it", re.Key, re.Args...), cat.T("en", re.Key, re.Args...)} {
			if !strings.Contains(text, name) {
				t.Errorf("message %q does not name the missing file", text)
			}
		}
	}
	if _, _, err := newTLSServer(t, Options{TLS: TLSFiles, CertFile: certPath}); rocca.ErrorCodeOf(err) != rocca.EINVALID {
		t.Errorf("no key_file: %v", err)
	}
}

func TestFilesModeMismatchedPair(t *testing.T) {
	dir := t.TempDir()
	writePair(t, filepath.Join(dir, "a.crt"), filepath.Join(dir, "a.key"), "a.example.it", time.Now(), time.Now().Add(time.Hour))
	writePair(t, filepath.Join(dir, "b.crt"), filepath.Join(dir, "b.key"), "b.example.it", time.Now(), time.Now().Add(time.Hour))
	_, _, err := newTLSServer(t, Options{TLS: TLSFiles, CertFile: filepath.Join(dir, "a.crt"), KeyFile: filepath.Join(dir, "b.key")})
	var re *rocca.Error
	if !errors.As(err, &re) || re.Key != "web.tls.pair_invalid" ||
		!strings.Contains(err.Error(), "a.crt") || !strings.Contains(err.Error(), "b.key") {
		t.Fatalf("err = %v", err)
	}
}

func TestFilesModeReloadsOnChange(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "site.crt"), filepath.Join(dir, "site.key")
	first := writePair(t, certPath, keyPath, "rocca.comune.example.it", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	s, reg, err := newTLSServer(t, Options{TLS: TLSFiles, CertFile: certPath, KeyFile: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	serial := func() *big.Int {
		c, err := s.tls.files.getCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.SerialNumber
	}
	if serial().Cmp(first) != 0 {
		t.Fatal("not serving the configured certificate")
	}
	notAfter := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	second := writePair(t, certPath, keyPath, "rocca.comune.example.it", time.Now().Add(-time.Hour), notAfter)
	later := time.Now().Add(time.Minute) // a distinct mtime even on coarse file systems
	os.Chtimes(certPath, later, later)
	os.Chtimes(keyPath, later, later)
	if serial().Cmp(second) != 0 {
		t.Fatal("changed files were not reloaded")
	}
	if got := expiryMetric(t, reg, TLSFiles); got != float64(notAfter.Unix()) {
		t.Errorf("expiry metric %v, want %d", got, notAfter.Unix())
	}
	// A broken replacement keeps the previous certificate.
	os.WriteFile(keyPath, []byte("broken"), 0o600)
	even := later.Add(time.Minute)
	os.Chtimes(keyPath, even, even)
	if serial().Cmp(second) != 0 {
		t.Fatal("a broken key replaced the working certificate")
	}
}

func TestACMEConfiguration(t *testing.T) {
	dir := t.TempDir()
	s, _, err := newTLSServer(t, Options{TLS: TLSACME, DataDir: dir, PublicURL: "https://rocca.comune.example.it",
		Listen: "0.0.0.0:443", ACMEEmail: "it@comune.example.it"})
	if err != nil {
		t.Fatal(err)
	}
	a := s.tls.acme
	if a == nil || a.host != "rocca.comune.example.it" || a.email != "it@comune.example.it" ||
		a.storage != filepath.Join(dir, "acme") || a.listenHost != "0.0.0.0" {
		t.Fatalf("settings %+v", a)
	}
	if !s.SecureCookies() {
		t.Error("acme mode without secure cookies")
	}
	// Build the certmagic objects without managing any name: nothing reaches an ACME server.
	magic, issuer, cache := a.build()
	defer cache.Stop()
	if issuer.CA != certmagic.LetsEncryptProductionCA || issuer.Email != "it@comune.example.it" || !issuer.Agreed ||
		issuer.DisableHTTPChallenge || issuer.DisableTLSALPNChallenge {
		t.Errorf("issuer %+v", issuer)
	}
	if fs, ok := magic.Storage.(*certmagic.FileStorage); !ok || fs.Path != filepath.Join(dir, "acme") {
		t.Errorf("storage %#v", magic.Storage)
	}
	if len(magic.Issuers) != 1 || magic.Issuers[0] != issuer {
		t.Errorf("issuers %v", magic.Issuers)
	}
	if !slices.Contains(magic.TLSConfig().NextProtos, "acme-tls/1") {
		t.Error("TLS-ALPN-01 protocol missing")
	}
	for _, bad := range []string{"", "https://127.0.0.1", "https://localhost:8443", "http://rocca"} {
		_, _, err := newTLSServer(t, Options{TLS: TLSACME, DataDir: dir, PublicURL: bad})
		var re *rocca.Error
		if !errors.As(err, &re) || re.Key != "web.tls.acme_host" {
			t.Errorf("public_url %q: %v", bad, err)
		}
	}
}

func TestUnknownTLSMode(t *testing.T) {
	_, _, err := newTLSServer(t, Options{TLS: "yes"})
	var re *rocca.Error
	if !errors.As(err, &re) || re.Key != "web.tls.mode_invalid" || re.Code != rocca.EINVALID {
		t.Fatalf("err = %v", err)
	}
}

func TestCertmagicLogsGoToSlog(t *testing.T) {
	logs := &logBuffer{}
	zl := zapToSlog(slog.New(slog.NewTextHandler(logs, nil)))
	zl.With(zap.String("identifier", "rocca.comune.example.it")).Warn("renewing", zap.Int("attempt", 2))
	zl.Debug("hidden at info level")
	got := logs.String()
	for _, want := range []string{"level=WARN", "msg=renewing", "identifier=rocca.comune.example.it", "attempt=2"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s: %s", want, got)
		}
	}
	if strings.Contains(got, "hidden") {
		t.Errorf("debug entry logged at info level: %s", got)
	}
}
