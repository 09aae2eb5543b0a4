package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests drive the built binary as an operator would: `rocca serve` in a temporary directory,
// a browser-like HTTP client with cookies, and the CLI against the running server.

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// roccaBin returns the binary under test: $ROCCA_BIN (set by `make test`) or one built now.
func roccaBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ROCCA_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rocca-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "rocca")
		out, err := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// logBuffer collects the server's log lines safely across goroutines.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(s string) { b.mu.Lock(); b.lines = append(b.lines, s); b.mu.Unlock() }

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// field returns the first value of a JSON log attribute.
func (b *logBuffer) field(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lines {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			if v, ok := m[name].(string); ok {
				return v
			}
		}
	}
	return ""
}

type instance struct {
	t       *testing.T
	dir     string
	config  string
	baseURL string
	cmd     *exec.Cmd
	logs    *logBuffer
	done    chan struct{}
}

// newInstance writes a config for a server in dir (data in dir/data) without starting it.
func newInstance(t *testing.T, dir string) *instance {
	t.Helper()
	port := freePort(t)
	cfg := fmt.Sprintf(`[server]
listen = "127.0.0.1:%d"
public_url = "http://127.0.0.1:%d"
data_dir = %q
metrics_listen = "127.0.0.1:%d"

[municipality]
name = "Comune di Prova"

[vpn]
enabled = false

[meetings]
enabled = false

[helpdesk]
enabled = false
`, port, port, filepath.Join(dir, "data"), freePort(t))
	path := filepath.Join(dir, "rocca.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o640); err != nil {
		t.Fatal(err)
	}
	return &instance{t: t, dir: dir, config: path, baseURL: fmt.Sprintf("http://127.0.0.1:%d", port)}
}

// start runs `rocca serve` and waits until /healthz answers.
func (in *instance) start() {
	t := in.t
	t.Helper()
	in.logs = &logBuffer{}
	in.done = make(chan struct{})
	in.cmd = exec.Command(roccaBin(t), "serve", "--config", in.config)
	in.cmd.Env = append(os.Environ(), "ROCCA_LANG=it")
	stderr, err := in.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			in.logs.add(sc.Text())
		}
		in.cmd.Wait()
		close(in.done)
	}()
	t.Cleanup(in.stop)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-in.done:
			t.Fatalf("rocca serve exited early:\n%s", in.logs)
		default:
		}
		if resp, err := http.Get(in.baseURL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("rocca serve not healthy within 60 s:\n%s", in.logs)
}

// stop sends SIGTERM and waits for a clean exit.
func (in *instance) stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	select {
	case <-in.done:
		return
	default:
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(30 * time.Second):
		in.cmd.Process.Kill()
		<-in.done
		in.t.Errorf("rocca serve did not stop within 30 s of SIGTERM")
	}
}

// rocca runs the CLI with this instance's config and returns stdout, stderr and the exit code.
func (in *instance) rocca(stdin string, args ...string) (string, string, int) {
	in.t.Helper()
	cmd := exec.Command(roccaBin(in.t), append([]string{"--config", in.config}, args...)...)
	cmd.Env = append(os.Environ(), "ROCCA_LANG=it")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		in.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// browser is an HTTP client with a cookie jar that does not follow redirects, so tests see them.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// post submits a form as a same-origin browser does (Origin header set).
func post(t *testing.T, c *http.Client, base, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}
