package installer

import (
	"context"
	"time"
)

// minTime is a date the clock of a working machine is past: Rocca did not exist before it. A clock
// behind it makes every certificate look not yet valid and every second-factor code wrong.
var minTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// checkTime: TLS, second-factor codes and the sealed council records need a clock in time.
func checkTime(_ context.Context, in Input) Result {
	now := in.Sys.Now()
	if now.Before(minTime) {
		return block("installer.check.time.wrong", now.UTC().Format("2006-01-02 15:04 MST")).fix("installer.fix.time")
	}
	ts := in.Sys.TimeSync()
	switch {
	case ts.Synchronized:
		return ok("installer.check.time.ok", ts.Source)
	case ts.Known:
		return warn("installer.check.time.not_synced", ts.Source).fix("installer.fix.time")
	}
	return warn("installer.check.time.unknown").fix("installer.fix.time")
}
