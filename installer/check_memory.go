package installer

import "context"

// Memory thresholds, in bytes of MemTotal. A "1 GB" virtual machine reports a little less.
const (
	memOK  = 900 << 20
	memMin = 400 << 20
)

// checkMemory: meetings hold media buffers for every participant; the rest is small.
func checkMemory(_ context.Context, in Input) Result {
	total, err := in.Sys.Memory()
	switch {
	case err != nil:
		return warn("installer.check.memory.unknown", err.Error())
	case total < memMin:
		return block("installer.check.memory.too_little", gib(total), gib(memMin)).fix("installer.fix.memory")
	case total < memOK:
		return warn("installer.check.memory.low", gib(total)).fix("installer.fix.memory")
	}
	return ok("installer.check.memory.ok", gib(total))
}
