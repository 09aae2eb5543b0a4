package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics are the web server's own metrics.
type httpMetrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	certExpiry *prometheus.GaugeVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{}
	var err error
	if m.requests, err = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rocca_http_requests_total",
		Help: "HTTP requests served, by method and status code.",
	}, []string{"method", "code"})); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rocca_http_request_duration_seconds",
		Help:    "Time to serve HTTP requests, by method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method"})); err != nil {
		return nil, err
	}
	if m.certExpiry, err = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "rocca_tls_certificate_expiry_seconds",
		Help: "Expiry (NotAfter) of the TLS certificate in use, as a Unix time, by source.",
	}, []string{"source"})); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to reg, or returns the collector already registered under the same name (two
// servers in one test process share a registry).
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("web: register metric: %w", err)
}

func (m *httpMetrics) observe(method string, status int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // keep label values bounded
	}
	m.requests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method).Observe(d.Seconds())
}

// ServeMetrics serves /metrics from g on its own listener (metrics_listen, normally loopback) until
// ctx is done. An empty listen address disables it and returns nil at once.
func ServeMetrics(ctx context.Context, listen string, g prometheus.Gatherer, logger *slog.Logger) error {
	if listen == "" {
		return nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := listenTCP(listen)
	if err != nil {
		return err
	}
	return serveMetrics(ctx, ln, g, logger.With("part", "web"))
}

func serveMetrics(ctx context.Context, ln net.Listener, g prometheus.Gatherer, logger *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("metrics listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if srv.Shutdown(shutCtx) != nil {
		srv.Close()
	}
	if err == nil {
		err = <-errc
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: metrics: %w", err)
	}
	return nil
}
