package web

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"

	"github.com/rocca-pa/rocca"
)

// fileCert serves the certificate of cert_file/key_file and reloads it when either file changes, so
// a renewal by an outside tool (certbot, the municipality's CA) needs no restart.
type fileCert struct {
	certPath, keyPath string
	logger            *slog.Logger
	onLoad            func(*x509.Certificate)

	mu    sync.Mutex
	cert  *tls.Certificate
	stamp string // size and mtime of both files when last read
}

func newFileCert(certPath, keyPath string, logger *slog.Logger, onLoad func(*x509.Certificate)) (*fileCert, error) {
	f := &fileCert{certPath: certPath, keyPath: keyPath, logger: logger, onLoad: onLoad}
	f.stamp = f.currentStamp()
	if err := f.load(); err != nil {
		return nil, err
	}
	return f, nil
}

// currentStamp describes both files cheaply, to notice a change at the next handshake.
func (f *fileCert) currentStamp() string {
	var s string
	for _, p := range []string{f.certPath, f.keyPath} {
		fi, err := os.Stat(p)
		if err != nil {
			s += "missing;"
			continue
		}
		s += fmt.Sprintf("%d@%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return s
}

func (f *fileCert) load() error {
	certPEM, err := readTLSFile(f.certPath)
	if err != nil {
		return err
	}
	keyPEM, err := readTLSFile(f.keyPath)
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		e := rocca.Localized(rocca.EINVALID, "web.tls.pair_invalid",
			fmt.Sprintf("certificate %s and key %s are not a valid pair", f.certPath, f.keyPath),
			f.certPath, f.keyPath, err.Error())
		e.Err = err
		return e
	}
	f.cert = &cert
	if f.onLoad != nil {
		f.onLoad(cert.Leaf)
	}
	return nil
}

func readTLSFile(path string) ([]byte, error) {
	body, err := os.ReadFile(path)
	if err == nil {
		return body, nil
	}
	reason := err.Error()
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		reason = pe.Err.Error() // the path is already in the message
	}
	e := rocca.Localized(rocca.EINVALID, "web.tls.file_read",
		fmt.Sprintf("cannot read TLS file %s", path), path, reason)
	e.Err = err
	return nil, e
}

// getCertificate is tls.Config.GetCertificate. A reload that fails keeps the previous certificate
// and is logged; it is retried when the files change again.
func (f *fileCert) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if stamp := f.currentStamp(); stamp != f.stamp {
		f.stamp = stamp
		if err := f.load(); err != nil {
			f.logger.Error("reload TLS certificate; keeping the previous one", "err", err)
		} else {
			f.logger.Info("TLS certificate reloaded", "file", f.certPath, "not_after", f.cert.Leaf.NotAfter)
		}
	}
	return f.cert, nil
}
