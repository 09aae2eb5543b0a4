// Package benchenv describes the machine a benchmark ran on (cores, memory, CPU model, kernel), so
// every report in docs/benchmarks.md states it the same way. Imported by the load tools under cmd/.
package benchenv

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Machine describes the host: cores, memory, CPU model and kernel.
func Machine() string {
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, l := range strings.Split(string(raw), "\n") {
			if rest, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				fmt.Sscan(strings.TrimSpace(rest), &kb)
			}
		}
		mem = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
	}
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if rest, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	kernel, _ := exec.Command("uname", "-sr").Output()
	return fmt.Sprintf("%d cores, %s, %s; kernel %s", runtime.NumCPU(), mem, cpu, strings.TrimSpace(string(kernel)))
}
