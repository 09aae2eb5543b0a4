package device

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/rocca-pa/rocca"
	"golang.org/x/sys/unix"
)

// The English messages below repeat the catalog's English text (internal/i18n/messages.en.toml),
// for logs and places without a catalog.

// isPermission reports whether err is the kernel refusing an operation for lack of CAP_NET_ADMIN.
func isPermission(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// isKernelMissing reports whether err is the kernel not knowing the link type "wireguard".
func isKernelMissing(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP)
}

// withCause attaches the system error to a user error, for the log.
func withCause(e *rocca.Error, cause error) *rocca.Error {
	e.Err = cause
	return e
}

func errNoPermission(cause error) error {
	return withCause(rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.no_permission",
		"Rocca may not manage network interfaces: it needs the CAP_NET_ADMIN capability. Run it as root or add AmbientCapabilities=CAP_NET_ADMIN to its systemd unit."), cause)
}

func errNoTUN(cause error) error {
	return withCause(rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.no_tun",
		"/dev/net/tun is missing, so the userspace VPN cannot start: load the module with 'modprobe tun' or, in a container, make the device available (LXC: lxc.cgroup2.devices.allow = c 10:200 rwm and lxc.mount.entry = /dev/net/tun dev/net/tun none bind,create=file)."), cause)
}

func errTUNDenied(cause error) error {
	return withCause(rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.tun_denied",
		"/dev/net/tun exists but may not be opened: in the container allow the device (LXC: lxc.cgroup2.devices.allow = c 10:200 rwm)."), cause)
}

func errNoKernelModule(cause error) error {
	return withCause(rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.no_kernel_module",
		"The WireGuard kernel module is not available: load it with 'modprobe wireguard' or set mode = \"userspace\" (or \"auto\") in the [vpn] section."), cause)
}

func errNameInUse(name string, cause error) error {
	return withCause(rocca.Localized(rocca.ECONFLICT, "vpn.device.name_in_use",
		fmt.Sprintf("The interface name %q is already used by another interface or program: choose another interface in the [vpn] section or stop the other program.", name), name), cause)
}

func errKernelLinkExists(name string) error {
	return rocca.Localized(rocca.ECONFLICT, "vpn.device.kernel_link_exists",
		fmt.Sprintf("The interface %q is a kernel WireGuard interface but the mode is \"userspace\": set mode = \"auto\" or \"kernel\" in the [vpn] section, or delete the interface.", name), name)
}

func errPortInUse(port int, cause error) error {
	return withCause(rocca.Localized(rocca.ECONFLICT, "vpn.device.port_in_use",
		fmt.Sprintf("The VPN UDP port %d is already used by another program: stop it or choose another listen_port in the [vpn] section.", port), port), cause)
}

func errExternalMissing(name string) error {
	return rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.external_missing",
		fmt.Sprintf("The VPN interface %q does not exist: with mode = \"external\" another program creates it (wg-quick, systemd-networkd or a wireguard-go service). Start that program: Rocca configures the interface as soon as it appears.", name), name)
}

// errExternal explains why wgctrl cannot read the interface of external mode (linkType is its
// netlink kind: "wireguard" for the kernel's, "tun" for wireguard-go's).
func errExternal(name, linkType string, cause error) error {
	switch {
	case isPermission(cause) && linkType == "tun":
		return withCause(rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.external_denied",
			fmt.Sprintf("Rocca may not open the control socket /var/run/wireguard/%s.sock of wireguard-go: run the wireguard-go service as the same user as Rocca (see the VPN section of the operator guide).", name), name), cause)
	case isPermission(cause):
		return errNoPermission(cause)
	case errors.Is(cause, fs.ErrNotExist):
		return withCause(rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.external_not_wireguard",
			fmt.Sprintf("The interface %q exists but is not a WireGuard interface Rocca can reach (type %s): for wireguard-go its control socket /var/run/wireguard/%s.sock must exist. Check interface in the [vpn] section.", name, linkType, name), name, linkType, name), cause)
	}
	return fmt.Errorf("read %s: %w", name, cause)
}
