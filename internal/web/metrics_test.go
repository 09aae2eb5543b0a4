package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsListener(t *testing.T) {
	e := newEnv(t, Options{}, nil)
	e.do(t, "GET", "/healthz", nil)
	e.do(t, "GET", "/nope", nil)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveMetrics(ctx, ln, e.reg, slog.New(slog.DiscardHandler)) }()

	res, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`rocca_http_requests_total{code="200",method="GET"} 1`,
		`rocca_http_requests_total{code="404",method="GET"} 1`, "rocca_http_request_duration_seconds_bucket"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s\n%s", want, body)
		}
	}
	res, err = http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("metrics listener serves / with %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveMetrics: %v", err)
	}
}

func TestServeMetricsDisabledAndBusy(t *testing.T) {
	if err := ServeMetrics(context.Background(), "", nil, nil); err != nil {
		t.Errorf("disabled: %v", err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := ServeMetrics(context.Background(), busy.Addr().String(), nil, nil); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("busy port: %v", err)
	}
}
