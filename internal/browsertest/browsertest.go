// Package browsertest starts Debian's headless Chromium for end-to-end tests, with the flags that
// work on a closed machine (no background networking, fake camera and microphone, loopback
// WebRTC). Only tests import it.
//
// Without Chromium a test skips and says so; with ROCCA_E2E=1 it fails instead.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Path is where Debian installs Chromium.
const Path = "/usr/bin/chromium"

// Require fails (ROCCA_E2E=1) or skips the test when Chromium is missing, and returns its path.
func Require(t testing.TB) string {
	t.Helper()
	path := Path
	if p := os.Getenv("ROCCA_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := exec.LookPath(path); err != nil {
		msg := "headless browser test needs Chromium at " + path + " (apt-get install chromium): " + err.Error()
		if os.Getenv("ROCCA_E2E") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// New starts a browser with a fresh profile and returns a context for chromedp.Run on its first
// tab. The browser is closed when the test ends. Do not put a timeout on the returned context
// itself: cancelling it kills the browser; derive per-step timeouts from it instead.
func New(t testing.TB) context.Context {
	t.Helper()
	path := Require(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}
