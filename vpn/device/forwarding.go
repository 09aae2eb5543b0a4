package device

import (
	"bytes"
	"fmt"
	"os"

	"github.com/rocca-pa/rocca"
)

// ipForwardPath is the IPv4 forwarding switch of the network namespace of the calling process.
const ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// EnableIPv4Forwarding turns on IPv4 forwarding in the current network namespace, without which
// devices reach nothing beyond the server. It writes nothing when forwarding is on already, so it
// also works where /proc/sys is read-only but the host has enabled it.
func EnableIPv4Forwarding() error {
	return enableForwarding(ipForwardPath)
}

func enableForwarding(path string) error {
	cur, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if string(bytes.TrimSpace(cur)) == "1" {
		return nil
	}
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		return withCause(rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.forwarding_denied",
			"IPv4 forwarding is off and Rocca may not turn it on: set net.ipv4.ip_forward = 1 in /etc/sysctl.d/ (in a container, on the host or in the container's configuration)."), err)
	}
	return nil
}
