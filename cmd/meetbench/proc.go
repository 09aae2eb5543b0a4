package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procStat is what /proc tells about CPU time and memory.
type procStat struct {
	cpu      time.Duration // utime+stime of the process, all threads
	rss, hwm int64         // bytes
}

// clockTick is USER_HZ, the unit of utime and stime: 100 on Linux for every architecture Go
// supports.
const clockTick = 100

func readProc(pid int) (procStat, error) {
	var s procStat
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name may hold spaces: the fields after it start past the last ')'.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return s, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return s, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of the whole line
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	s.cpu = time.Duration(ut+st) * time.Second / clockTick
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		switch name {
		case "VmRSS":
			s.rss = kb * 1024
		case "VmHWM":
			s.hwm = kb * 1024
		}
	}
	return s, nil
}

// machineCPU returns the busy and total jiffies of all CPUs (/proc/stat).
func machineCPU() (busy, total int64) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest time is already in user time
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// udpDrops returns the kernel's drop counter of each local UDP port on 127.0.0.1
// (/proc/net/udp): datagrams that arrived while the socket's receive buffer was full.
func udpDrops() map[int]int64 {
	m := map[int]int64{}
	raw, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(raw), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 13 {
			continue
		}
		_, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err1 := strconv.ParseInt(portHex, 16, 32)
		drops, err2 := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err1 == nil && err2 == nil {
			m[int(port)] += drops
		}
	}
	return m
}
