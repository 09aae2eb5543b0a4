package installer

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// socketInodes finds, in /proc/net/{tcp,tcp6,udp,udp6}, the inodes of sockets bound to port
// (listening ones, for TCP).
func socketInodes(proto string, port int) map[string]bool {
	want := strings.ToUpper(strconv.FormatInt(int64(port), 16))
	for len(want) < 4 {
		want = "0" + want
	}
	inodes := map[string]bool{}
	for _, file := range []string{proto, proto + "6"} {
		f, err := os.Open(filepath.Join("/proc/net", file))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || !strings.HasSuffix(fields[1], ":"+want) {
				continue
			}
			if proto == "tcp" && fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			inodes[fields[9]] = true
		}
		f.Close()
	}
	return inodes
}

// processWithSocket returns the command name of a process holding one of the socket inodes.
func processWithSocket(inodes map[string]bool) string {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		fds, _ := filepath.Glob(filepath.Join(p, "fd", "*"))
		for _, fd := range fds {
			target, err := os.Readlink(fd)
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] {
				comm, _ := os.ReadFile(filepath.Join(p, "comm"))
				return strings.TrimSpace(string(comm))
			}
		}
	}
	return ""
}
