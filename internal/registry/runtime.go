package registry

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"path"
	"strconv"
	"strings"
)

// gcPercent is `decagon serve`'s GC target, as `decagon edge` has it: a service allocates per
// request and keeps little, so at Go's default (100) a 0.25 vCPU task spent a tenth of its CPU
// marking; 400 trades a few MiB for it (bench/README.md, "A Fargate-sized task").
const gcPercent = 400

// memoryLimitShare is the part of the task's memory (its cgroup's limit) given to Go as a soft
// limit: past it the GC runs as often as it must, whatever gcPercent says, so a heap that grows
// (large uploads in flight) meets the GC before the OOM killer.
const memoryLimitShare = 0.75

// procsSettings returns the GOMAXPROCS Serve sets for a service whose I/O is all network (see
// Serve): 1 when the process's cgroup allows it less than one CPU (a Fargate task of 256 or 512
// CPU units), -1 (leave Go's choice) otherwise or when GOMAXPROCS is in the environment. Go's
// default follows the limit but never goes below 2: under a CFS quota of a quarter CPU, two Ps hand goroutines to each other, wake threads the
// quota then throttles, and sysmon keeps retaking Ps from syscalls that only look long because
// the thread was descheduled; the scheduler was about a quarter of such a task's CPU
// (bench/README.md, "A Fargate-sized task").
func procsSettings(getenv func(string) string, readFile func(string) ([]byte, error)) int {
	if getenv("GOMAXPROCS") != "" {
		return -1
	}
	if cpus, ok := cgroupCPULimit(readFile); ok && cpus < 1 {
		return 1
	}
	return -1
}

// gcSettings returns the GC target and soft memory limit Serve sets: gcPercent and
// memoryLimitShare of the process's cgroup memory limit. A setting in the environment (GOGC,
// GOMEMLIMIT) wins and is returned as -1 (leave it); so is a memory limit that cannot be read
// or is not set.
func gcSettings(getenv func(string) string, readFile func(string) ([]byte, error)) (percent int, limit int64) {
	percent, limit = -1, -1
	if getenv("GOGC") == "" {
		percent = gcPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		if n, ok := cgroupMemoryLimit(readFile); ok {
			limit = int64(float64(n) * memoryLimitShare)
		}
	}
	return percent, limit
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup: memory.max (cgroup v2) or
// memory.limit_in_bytes (v1). ok is false when there is none ("max", or v1's near-2^63
// "unlimited") or it cannot be read.
func cgroupMemoryLimit(readFile func(string) ([]byte, error)) (n int64, ok bool) {
	b, err := cgroupFile(readFile, "memory", "memory.max", "memory.limit_in_bytes")
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v <= 0 || v >= math.MaxInt64/2 { // "max", or v1's page-rounded 2^63
		return 0, false
	}
	return v, true
}

// cgroupCPULimit reads the CPU bandwidth limit of the process's cgroup, in CPUs: cpu.max
// ("quota period", cgroup v2) or cpu.cfs_quota_us / cpu.cfs_period_us (v1). ok is false when
// there is none ("max", -1) or it cannot be read.
func cgroupCPULimit(readFile func(string) ([]byte, error)) (cpus float64, ok bool) {
	var quota, period string
	if b, err := cgroupFile(readFile, "cpu", "cpu.max", "cpu.cfs_quota_us"); err != nil {
		return 0, false
	} else if q, p, v2 := strings.Cut(strings.TrimSpace(string(b)), " "); v2 {
		quota, period = q, p
	} else {
		pb, err := cgroupFile(readFile, "cpu", "cpu.max", "cpu.cfs_period_us")
		if err != nil {
			return 0, false
		}
		quota, period = q, strings.TrimSpace(string(pb))
	}
	qv, err1 := strconv.ParseInt(quota, 10, 64)
	pv, err2 := strconv.ParseInt(period, 10, 64)
	if err1 != nil || err2 != nil || qv <= 0 || pv <= 0 { // "max" or -1: no limit
		return 0, false
	}
	return float64(qv) / float64(pv), true
}

// cgroupFile reads a file of the process's cgroup: v2file in its cgroup v2 directory, or v1file
// in its directory of the v1 hierarchy that holds controller, as /proc/self/cgroup names them.
func cgroupFile(readFile func(string) ([]byte, error), controller, v2file, v1file string) ([]byte, error) {
	self, err := readFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	var file string
	sc := bufio.NewScanner(bytes.NewReader(self))
	for sc.Scan() {
		// "hierarchy-ID:controllers:path": v2 is "0::/path", a v1 line "N:cpu,cpuacct:/path".
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[1] == "" && parts[0] == "0" && file == "":
			file = path.Join("/sys/fs/cgroup", parts[2], v2file)
		case hasController(parts[1], controller):
			// A v1 hierarchy with the controller wins over the v2 one, which then lacks it. It
			// is mounted at /sys/fs/cgroup/<controller>, or at /sys/fs/cgroup/cpu,cpuacct with
			// cpu and cpuacct linked to it.
			file = path.Join("/sys/fs/cgroup", controller, parts[2], v1file)
		}
	}
	if file == "" {
		return nil, errors.New("no cgroup")
	}
	return readFile(file)
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}
