package installer

import (
	"context"
	"strconv"
	"strings"
)

// minKernel is the oldest Linux Rocca supports: nftables, WireGuard-go's TUN handling and the
// systemd sandboxing the unit asks for all need a recent kernel.
var minKernel = [2]int{4, 19}

// supportedOS are the distributions Rocca is tested on, with the oldest version of each.
var supportedOS = map[string]float64{"debian": 11, "ubuntu": 22.04}

// checkOS: Linux on a recent kernel is required; Debian and Ubuntu are what Rocca is tested on.
func checkOS(_ context.Context, in Input) Result {
	o := in.Sys.OS()
	name := o.Pretty
	if name == "" {
		name = o.GOOS
	}
	if o.GOOS != "linux" {
		return block("installer.check.os.not_linux", o.GOOS).fix("installer.fix.os.not_linux")
	}
	if major, minor, ok := kernelVersion(o.Kernel); ok && (major < minKernel[0] || major == minKernel[0] && minor < minKernel[1]) {
		return block("installer.check.os.old_kernel", o.Kernel, minKernel[0], minKernel[1]).fix("installer.fix.os.upgrade")
	}
	oldest, known := supportedOS[o.ID]
	version, err := strconv.ParseFloat(o.VersionID, 64)
	switch {
	case !known:
		return warn("installer.check.os.untested", name, o.Arch).fix("installer.fix.os.untested")
	case err != nil || version < oldest:
		return warn("installer.check.os.old", name, o.Arch).fix("installer.fix.os.upgrade")
	case o.Arch != "amd64" && o.Arch != "arm64":
		return warn("installer.check.os.arch", name, o.Arch).fix("installer.fix.os.untested")
	}
	return ok("installer.check.os.ok", name, o.Arch, o.Kernel)
}

// kernelVersion reads "6.1.0-18-amd64" as 6, 1.
func kernelVersion(release string) (major, minor int, ok bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor, err1 == nil && err2 == nil
}
