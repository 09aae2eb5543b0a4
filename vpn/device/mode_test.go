package device

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/rocca-pa/rocca"
	"golang.org/x/sys/unix"
)

func TestSelectMode(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "tun")
	if err := os.WriteFile(present, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-tun")
	// Netlink returns bare errnos; wrapping them checks that classification looks through wrappers.
	notSupported := fmt.Errorf("link add: %w", unix.EOPNOTSUPP)
	denied := fmt.Errorf("link add: %w", unix.EPERM)
	odd := fmt.Errorf("link add: %w", unix.EIO)

	tests := []struct {
		name      string
		requested string
		probe     error
		tun       string
		want      string
		wantKey   string // user error key, "" for none
		wantProbe bool
	}{
		{"auto with kernel module", ModeAuto, nil, missing, ModeKernel, "", true},
		{"auto without module", ModeAuto, notSupported, present, ModeUserspace, "", true},
		{"auto without module nor tun", ModeAuto, notSupported, missing, "", "vpn.device.no_tun", true},
		{"auto without CAP_NET_ADMIN", ModeAuto, denied, present, "", "vpn.device.no_permission", true},
		{"auto with an odd probe failure", ModeAuto, odd, present, ModeUserspace, "", true},
		{"kernel with module", ModeKernel, nil, missing, ModeKernel, "", true},
		{"kernel without module", ModeKernel, notSupported, present, "", "vpn.device.no_kernel_module", true},
		{"kernel without CAP_NET_ADMIN", ModeKernel, denied, present, "", "vpn.device.no_permission", true},
		{"userspace", ModeUserspace, nil, present, ModeUserspace, "", false},
		{"userspace without tun", ModeUserspace, nil, missing, "", "vpn.device.no_tun", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probed := false
			h := host{probeKernel: func() error { probed = true; return tt.probe }, tunPath: tt.tun}
			got, err := selectMode(tt.requested, h, slog.New(slog.DiscardHandler))
			if probed != tt.wantProbe {
				t.Errorf("probed = %v, want %v", probed, tt.wantProbe)
			}
			checkUserErr(t, err, tt.wantKey)
			if err == nil && got != tt.want {
				t.Errorf("mode = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("kernel with an odd probe failure", func(t *testing.T) {
		h := host{probeKernel: func() error { return odd }, tunPath: present}
		_, err := selectMode(ModeKernel, h, slog.New(slog.DiscardHandler))
		if !errors.Is(err, unix.EIO) || rocca.ErrorCodeOf(err) != rocca.EINTERNAL {
			t.Errorf("err = %v (code %s), want the probe's EIO as an internal error", err, rocca.ErrorCodeOf(err))
		}
	})
}

func TestResolveModeExistingLink(t *testing.T) {
	noProbe := host{probeKernel: func() error { t.Error("probed although the interface exists"); return nil }, tunPath: "/nonexistent"}
	logger := slog.New(slog.DiscardHandler)

	for _, requested := range []string{ModeAuto, ModeKernel} {
		got, err := resolveMode("rocca0", requested, "wireguard", noProbe, logger)
		if err != nil || got != ModeKernel {
			t.Errorf("%s with a kernel link: mode %q, err %v; want it adopted in kernel mode", requested, got, err)
		}
	}
	_, err := resolveMode("rocca0", ModeUserspace, "wireguard", noProbe, logger)
	checkUserErr(t, err, "vpn.device.kernel_link_exists")
	if rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
		t.Errorf("code = %s, want conflict", rocca.ErrorCodeOf(err))
	}
	_, err = resolveMode("rocca0", ModeAuto, "bridge", noProbe, logger)
	checkUserErr(t, err, "vpn.device.name_in_use")
}

// TestResolveModeExternal: external mode never probes nor creates; it needs the interface to be
// there, of whatever kind (wgctrl tells later whether it is a WireGuard interface it can reach).
func TestResolveModeExternal(t *testing.T) {
	noProbe := host{probeKernel: func() error { t.Error("probed in external mode"); return nil }, tunPath: "/nonexistent"}
	logger := slog.New(slog.DiscardHandler)
	_, err := resolveMode("rocca0", ModeExternal, "", noProbe, logger)
	checkUserErr(t, err, "vpn.device.external_missing")
	if rocca.ErrorCodeOf(err) != rocca.EUNAVAILABLE {
		t.Errorf("code = %s, want unavailable", rocca.ErrorCodeOf(err))
	}
	for _, kind := range []string{"wireguard", "tun", "bridge"} {
		if got, err := resolveMode("rocca0", ModeExternal, kind, noProbe, logger); err != nil || got != ModeExternal {
			t.Errorf("external with a %s link: mode %q, err %v; want external", kind, got, err)
		}
	}
}

// TestExternalErrors: what wgctrl's failures on an external interface become.
func TestExternalErrors(t *testing.T) {
	denied := fmt.Errorf("dial: %w", unix.EACCES)
	checkUserErr(t, errExternal("wg0", "tun", denied), "vpn.device.external_denied")
	checkUserErr(t, errExternal("wg0", "wireguard", denied), "vpn.device.no_permission")
	checkUserErr(t, errExternal("wg0", "bridge", fmt.Errorf("read: %w", os.ErrNotExist)), "vpn.device.external_not_wireguard")
	checkUserErr(t, errExternal("wg0", "tun", fmt.Errorf("read: %w", os.ErrNotExist)), "vpn.device.external_not_wireguard")
	odd := errExternal("wg0", "tun", fmt.Errorf("read: %w", unix.ECONNREFUSED))
	if !errors.Is(odd, unix.ECONNREFUSED) || rocca.ErrorCodeOf(odd) != rocca.EINTERNAL {
		t.Errorf("an odd failure: %v (code %s), want it wrapped as an internal error", odd, rocca.ErrorCodeOf(odd))
	}
}

// checkUserErr fails unless err is nil when key is "", or a *rocca.Error with that catalog key.
func checkUserErr(t *testing.T, err error, key string) {
	t.Helper()
	if key == "" {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	var e *rocca.Error
	if !errors.As(err, &e) || e.Key != key {
		t.Errorf("err = %v, want a user error with key %s", err, key)
		return
	}
	if e.Message == "" {
		t.Errorf("user error %s has no English message", key)
	}
}
