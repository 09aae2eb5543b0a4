package device

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestEnableForwarding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ip_forward")
	if err := os.WriteFile(path, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := enableForwarding(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "1\n" {
		t.Errorf("file holds %q, want %q", b, "1\n")
	}

	// Already on: nothing is written, which is what lets it pass on a read-only /proc/sys.
	old := time.Unix(1_000_000, 0)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if err := enableForwarding(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
		t.Errorf("file rewritten although forwarding was on")
	}

	// Not writable: /proc/version reads as something other than "1" and refuses writes even from
	// root. The user error names the sysctl to set.
	checkUserErr(t, enableForwarding("/proc/version"), "vpn.device.forwarding_denied")
}
