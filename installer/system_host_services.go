package installer

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/nftables"
)

// Firewall looks at ufw's own switch, firewalld's pid file and the nftables ruleset.
func (h *Host) Firewall() FirewallInfo {
	var fw FirewallInfo
	if data, err := os.ReadFile("/etc/ufw/ufw.conf"); err == nil && h.HasCommand("ufw") {
		fw.UFW = bytes.Contains(data, []byte("\nENABLED=yes")) || bytes.HasPrefix(data, []byte("ENABLED=yes"))
	}
	fw.Firewalld = pidAlive("/run/firewalld.pid") || pidAlive("/var/run/firewalld.pid")
	fw.NftDrop, fw.NftErr = nftInputDrops()
	return fw
}

// nftInputDrops reports whether any nftables input chain has a drop policy. The error says when
// nftables cannot be used at all (no kernel support, no permission).
func nftInputDrops() (bool, error) {
	c, err := nftables.New()
	if err != nil {
		return false, err
	}
	defer c.CloseLasting()
	chains, err := c.ListChains()
	if err != nil {
		return false, err
	}
	for _, ch := range chains {
		if ch.Hooknum != nil && *ch.Hooknum == *nftables.ChainHookInput && ch.Policy != nil && *ch.Policy == nftables.ChainPolicyDrop {
			return true, nil
		}
	}
	return false, nil
}

func pidAlive(pidFile string) bool {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	return err == nil && pid > 0 && syscall.Kill(pid, 0) == nil
}

// TimeSync asks, in turn, systemd-timesyncd's flag file, timedatectl and chrony.
func (h *Host) TimeSync() TimeSyncInfo {
	if _, err := os.Stat("/run/systemd/timesync/synchronized"); err == nil {
		return TimeSyncInfo{Known: true, Synchronized: true, Source: "systemd-timesyncd"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "timedatectl", "show", "-p", "NTPSynchronized", "--value").Output(); err == nil {
		v := strings.TrimSpace(string(out))
		return TimeSyncInfo{Known: v == "yes" || v == "no", Synchronized: v == "yes", Source: "timedatectl"}
	}
	if out, err := exec.CommandContext(ctx, "chronyc", "tracking").Output(); err == nil {
		synced := bytes.Contains(out, []byte("Leap status     : Normal"))
		return TimeSyncInfo{Known: true, Synchronized: synced, Source: "chrony"}
	}
	return TimeSyncInfo{}
}
