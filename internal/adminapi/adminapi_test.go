package adminapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/rocca-pa/rocca"
)

type echoIn struct{ Name string }
type echoOut struct{ Greeting, Caller string }

func startServer(t *testing.T) (*Server, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "admin.sock")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := NewServer(sock, logger)
	s.Handle("POST /v1/echo", Func(logger, func(ctx context.Context, r *http.Request, in echoIn) (echoOut, error) {
		if in.Name == "" {
			return echoOut{}, rocca.Localized(rocca.EINVALID, "test.key", "name is required")
		}
		return echoOut{Greeting: "ciao " + in.Name, Caller: rocca.UserFromContext(ctx).Name}, nil
	}))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, sock
}

func TestRoundTripAndErrors(t *testing.T) {
	_, sock := startServer(t)
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	c := NewClient(sock)
	var out echoOut
	if err := c.Do(context.Background(), "POST", "/v1/echo", echoIn{Name: "Anna"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Greeting != "ciao Anna" || out.Caller == "" {
		t.Fatalf("out = %+v", out)
	}
	err = c.Do(context.Background(), "POST", "/v1/echo", echoIn{}, &out)
	var re *rocca.Error
	if !errors.As(err, &re) || re.Code != rocca.EINVALID || re.Key != "test.key" {
		t.Fatalf("err = %#v; want EINVALID with key", err)
	}
}

func TestSecondServerRefused(t *testing.T) {
	s, sock := startServer(t)
	_ = s
	other := NewServer(sock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := other.Listen(); rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
		t.Fatalf("second Listen = %v; want ECONFLICT", err)
	}
}

func TestServerNotRunning(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "admin.sock")
	err := NewClient(sock).Do(context.Background(), "GET", "/v1/users", nil, nil)
	var re *rocca.Error
	if !errors.As(err, &re) || re.Code != rocca.EUNAVAILABLE || re.Key != "adminapi.not_running" {
		t.Fatalf("err = %v; want EUNAVAILABLE adminapi.not_running", err)
	}
	// A stale socket file from a crash is no obstacle to a new server.
	os.WriteFile(sock, nil, 0o600)
	err = NewClient(sock).Do(context.Background(), "GET", "/v1/users", nil, nil)
	if rocca.ErrorCodeOf(err) != rocca.EUNAVAILABLE {
		t.Fatalf("stale socket: err = %v; want EUNAVAILABLE", err)
	}
	s := NewServer(sock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Listen(); err != nil {
		t.Fatalf("Listen over stale socket: %v", err)
	}
	s.ln.Close()
}
