package device

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/vishvananda/netlink"
)

// tunPath is the clone device the userspace mode needs.
const tunPath = "/dev/net/tun"

// host is what mode selection asks of the machine; tests replace it.
type host struct {
	// probeKernel creates and deletes a throwaway WireGuard link: nil means the module is usable.
	probeKernel func() error
	// tunPath is where the TUN clone device should be.
	tunPath string
}

// selectMode turns the configured mode into "kernel" or "userspace" for a name with no interface
// yet, or a user error saying what is missing and how to fix it.
func selectMode(requested string, h host, logger *slog.Logger) (string, error) {
	if requested == ModeUserspace {
		return ModeUserspace, checkTUN(h.tunPath)
	}
	err := h.probeKernel()
	switch {
	case err == nil:
		return ModeKernel, nil
	case isPermission(err):
		// Userspace needs CAP_NET_ADMIN too, so falling back would only fail later and less clearly.
		return "", errNoPermission(err)
	case requested == ModeKernel && isKernelMissing(err):
		return "", errNoKernelModule(err)
	case requested == ModeKernel:
		return "", fmt.Errorf("probe kernel wireguard: %w", err)
	case !isKernelMissing(err):
		logger.Warn("kernel wireguard probe failed, using userspace", slog.Any("err", err))
	}
	return ModeUserspace, checkTUN(h.tunPath)
}

// resolveMode decides the mode when an interface of that name may already exist (existingType is
// its link type, "" when none): a kernel WireGuard link is adopted, anything else is a conflict.
// In external mode the interface must exist and nothing is probed: whether it is a WireGuard
// interface Rocca can reach is for wgctrl to tell (a kernel link, or wireguard-go's TUN link).
func resolveMode(name, requested, existingType string, h host, logger *slog.Logger) (string, error) {
	if requested == ModeExternal {
		if existingType == "" {
			return "", errExternalMissing(name)
		}
		return ModeExternal, nil
	}
	switch existingType {
	case "":
		return selectMode(requested, h, logger)
	case "wireguard":
		if requested == ModeUserspace {
			return "", errKernelLinkExists(name)
		}
		return ModeKernel, nil
	default:
		return "", errNameInUse(name, fmt.Errorf("existing link of type %q", existingType))
	}
}

// realHost probes this machine through nl.
func realHost(nl *netlink.Handle, logger *slog.Logger) host {
	return host{
		probeKernel: func() error { return probeKernel(nl, logger) },
		tunPath:     tunPath,
	}
}

// probeKernel creates a WireGuard link with a random name and deletes it again.
func probeKernel(nl *netlink.Handle, logger *slog.Logger) error {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	link := &netlink.Wireguard{LinkAttrs: netlink.LinkAttrs{Name: "rprobe" + hex.EncodeToString(b[:])}}
	if err := nl.LinkAdd(link); err != nil {
		return err
	}
	if err := nl.LinkDel(link); err != nil {
		// The module works; a leftover probe link is harmless but worth a line in the log.
		logger.Warn("delete wireguard probe link", slog.String("link", link.Name), slog.Any("err", err))
	}
	return nil
}

// checkTUN reports whether the TUN clone device exists at path.
func checkTUN(path string) error {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return errNoTUN(err)
	}
	return err
}
