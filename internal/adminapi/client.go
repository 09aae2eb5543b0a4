package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/rocca-pa/rocca"
)

// Client calls a running server through its admin socket.
type Client struct {
	path string
	http *http.Client
}

// NewClient returns a client for the socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return &Client{path: path, http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// Do sends in (if not nil) as JSON to method path and decodes the answer into out (if not nil).
// Errors come back as *rocca.Error; a server that is not running gives EUNAVAILABLE with the
// catalog key "adminapi.not_running".
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://rocca"+path, body)
	if err != nil {
		return fmt.Errorf("admin request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if isNotRunning(err) {
			return rocca.Localized(rocca.EUNAVAILABLE, "adminapi.not_running",
				"rocca server not running at "+c.path, c.path)
		}
		return fmt.Errorf("admin socket %s: %w", c.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var eb errorBody
		if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Error.Code == "" {
			return fmt.Errorf("admin socket: unexpected answer %s", resp.Status)
		}
		return &rocca.Error{Code: eb.Error.Code, Message: eb.Error.Message, Key: eb.Error.Key, Args: intArgs(eb.Error.Args)}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// intArgs gives back the whole numbers among a message's arguments, which JSON turned into
// float64: the catalog formats them with %d.
func intArgs(args []any) []any {
	for i, a := range args {
		if f, ok := a.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			args[i] = int64(f)
		}
	}
	return args
}

func isNotRunning(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}
