package ecs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on every Linux
// architecture Go supports (the kernel converts to it whatever its own HZ), and Go cannot
// call sysconf(_SC_CLK_TCK) without cgo.
const clockTicks = 100

// errProcFormat is returned for a /proc file that does not have the expected shape.
var errProcFormat = errors.New("unexpected /proc format")

// parseStatCPU returns utime+stime, in clock ticks, from the content of /proc/<pid>/stat. The
// command name (field 2) is in parentheses and may hold spaces and parentheses itself, so the
// fields are counted from the last ')'.
func parseStatCPU(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: no ')' in stat", errProcFormat)
	}
	// After ')': field 3 (state) onwards; utime and stime are fields 14 and 15.
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("%w: %d fields after the command", errProcFormat, len(fields))
	}
	utime, err := strconv.ParseUint(string(fields[11]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: utime: %v", errProcFormat, err)
	}
	stime, err := strconv.ParseUint(string(fields[12]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: stime: %v", errProcFormat, err)
	}
	return utime + stime, nil
}

// parseStatusRSS returns VmRSS in bytes from the content of /proc/<pid>/status.
func parseStatusRSS(status []byte) (uint64, error) {
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("%w: VmRSS line %q", errProcFormat, line)
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil || kb > 1<<50 {
			return 0, fmt.Errorf("%w: VmRSS value %q", errProcFormat, f[0])
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%w: no VmRSS (a zombie or kernel thread)", errProcFormat)
}

// usage is one reading of a process's CPU time and memory.
type usage struct {
	at    time.Time
	ticks uint64
	rss   uint64
}

// readUsage reads the CPU time and resident memory of pid.
func readUsage(pid int) (usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	at := time.Now()
	ticks, err := parseStatCPU(stat)
	if err != nil {
		return usage{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	rss, err := parseStatusRSS(status)
	if err != nil {
		return usage{}, err
	}
	return usage{at: at, ticks: ticks, rss: rss}, nil
}

// cpuPercent is the CPU used between two readings in percent of vcpu CPUs (0.25 for a task of
// 256 CPU units): 100 means the task used all of its reservation.
func cpuPercent(prev, cur usage, vcpu float64) float64 {
	wall := cur.at.Sub(prev.at).Seconds()
	if wall <= 0 || vcpu <= 0 || cur.ticks < prev.ticks {
		return 0
	}
	used := float64(cur.ticks-prev.ticks) / clockTicks
	return used / wall / vcpu * 100
}
