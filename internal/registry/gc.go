package registry

import (
	"bufio"
	"bytes"
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
// memory.limit_in_bytes (v1) under the path /proc/self/cgroup names. ok is false when there is
// none ("max", or v1's near-2^63 "unlimited") or it cannot be read.
func cgroupMemoryLimit(readFile func(string) ([]byte, error)) (n int64, ok bool) {
	self, err := readFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	var file string
	sc := bufio.NewScanner(bytes.NewReader(self))
	for sc.Scan() {
		// "hierarchy-ID:controllers:path": v2 is "0::/path", v1's memory line "N:memory:/path".
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[1] == "" && parts[0] == "0" && file == "":
			file = path.Join("/sys/fs/cgroup", parts[2], "memory.max")
		case hasController(parts[1], "memory"):
			file = path.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes")
		}
	}
	if file == "" {
		return 0, false
	}
	b, err := readFile(file)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v <= 0 || v >= math.MaxInt64/2 { // "max", or v1's page-rounded 2^63
		return 0, false
	}
	return v, true
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}
