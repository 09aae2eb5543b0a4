package installer

import (
	"context"
	"fmt"
)

// Disk thresholds: recordings of council sessions and the database grow with use.
const (
	diskOK  = 5 << 30
	diskMin = 1 << 30
)

// checkDisk looks at the free space where the data directory is (or will be).
func checkDisk(_ context.Context, in Input) Result {
	dir := in.Config.Server.DataDir
	free, err := in.Sys.DiskFree(dir)
	switch {
	case err != nil:
		return warn("installer.check.disk.unknown", dir, err.Error())
	case free < diskMin:
		return block("installer.check.disk.full", dir, gib(free), gib(diskMin)).fix("installer.fix.disk", dir)
	case free < diskOK:
		return warn("installer.check.disk.low", dir, gib(free), gib(diskOK)).fix("installer.fix.disk", dir)
	}
	return ok("installer.check.disk.ok", dir, gib(free))
}

// gib renders a size in GiB with one decimal ("4.2 GiB"), or in MiB below one GiB ("256 MiB").
func gib(n uint64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
