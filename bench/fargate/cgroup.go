package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cgroup is one CPU and memory limit, as a Fargate task has: on cgroup v1 a directory in each of
// the cpu, cpuacct and memory hierarchies, on v2 one directory with both controllers.
type cgroup struct {
	name string
	v2   string // the v2 directory, or ""
	cpu  string // v1 directories
	acct string
	mem  string
}

const (
	v1Root = "/sys/fs/cgroup"
	v2Root = "/sys/fs/cgroup" // unified hierarchy mounted at the root
)

// newCgroup creates (or reuses) the cgroup name with cpuUnits/1024 of a CPU (Fargate's units:
// 256 = 0.25 vCPU, a CFS quota of 25 ms per 100 ms period) and memMiB of memory.
func newCgroup(name string, cpuUnits, memMiB int) (*cgroup, error) {
	const period = 100000 // µs
	quota := cpuUnits * period / 1024
	mem := strconv.Itoa(memMiB << 20)
	if _, err := os.Stat(filepath.Join(v2Root, "cgroup.controllers")); err == nil {
		dir := filepath.Join(v2Root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		// The parent must hand the controllers down; harmless when it already does.
		_ = os.WriteFile(filepath.Join(v2Root, "cgroup.subtree_control"), []byte("+cpu +memory"), 0o644)
		cg := &cgroup{name: name, v2: dir}
		if err := errors.Join(
			write(dir, "cpu.max", fmt.Sprintf("%d %d", quota, period)),
			write(dir, "memory.max", mem),
		); err != nil {
			cg.remove()
			return nil, err
		}
		return cg, nil
	}
	cg := &cgroup{name: name,
		cpu:  filepath.Join(v1Root, "cpu", name),
		acct: filepath.Join(v1Root, "cpuacct", name),
		mem:  filepath.Join(v1Root, "memory", name)}
	// cpu and cpuacct are often one hierarchy (cpu,cpuacct); then both names are the same dir.
	if fi, err := os.Stat(filepath.Join(v1Root, "cpuacct", "cpuacct.usage")); err != nil || fi.IsDir() {
		if _, err := os.Stat(filepath.Join(v1Root, "cpu", "cpuacct.usage")); err == nil {
			cg.acct = cg.cpu
		}
	}
	for _, d := range []string{cg.cpu, cg.acct, cg.mem} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			cg.remove()
			return nil, err
		}
	}
	if err := errors.Join(
		write(cg.cpu, "cpu.cfs_period_us", strconv.Itoa(period)),
		write(cg.cpu, "cpu.cfs_quota_us", strconv.Itoa(quota)),
		write(cg.mem, "memory.limit_in_bytes", mem),
	); err != nil {
		cg.remove()
		return nil, err
	}
	return cg, nil
}

func write(dir, file, value string) error {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0o644); err != nil {
		return fmt.Errorf("cgroup %s: %w", filepath.Join(dir, file), err)
	}
	return nil
}

// procsFiles are the cgroup.procs files a process joins (a shell writes its own PID into each
// before exec, so the service runs limited from its first instruction).
func (c *cgroup) procsFiles() []string {
	if c.v2 != "" {
		return []string{filepath.Join(c.v2, "cgroup.procs")}
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range []string{c.cpu, c.acct, c.mem} {
		if !seen[d] {
			seen[d] = true
			out = append(out, filepath.Join(d, "cgroup.procs"))
		}
	}
	return out
}

// resetPeak clears the memory high-water mark (v1; v2's memory.peak resets with a new process
// on kernels before 6.12, where writing it is not supported).
func (c *cgroup) resetPeak() {
	if c.v2 == "" {
		_ = os.WriteFile(filepath.Join(c.mem, "memory.max_usage_in_bytes"), []byte("0"), 0o644)
	}
}

// cpuUsage is the CPU time all processes in the cgroup used so far.
func (c *cgroup) cpuUsage() time.Duration {
	if c.v2 != "" {
		b, err := os.ReadFile(filepath.Join(c.v2, "cpu.stat"))
		if err != nil {
			return 0
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return time.Duration(n) * time.Microsecond
			}
		}
		return 0
	}
	return time.Duration(readInt(filepath.Join(c.acct, "cpuacct.usage")))
}

// throttled is how often the quota stopped the cgroup so far (nr_throttled).
func (c *cgroup) throttled() int64 {
	dir := c.cpu
	if c.v2 != "" {
		dir = c.v2
	}
	b, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "nr_throttled "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// memPeak is the cgroup's memory high-water mark, page cache included.
func (c *cgroup) memPeak() int64 {
	if c.v2 != "" {
		return readInt(filepath.Join(c.v2, "memory.peak"))
	}
	return readInt(filepath.Join(c.mem, "memory.max_usage_in_bytes"))
}

func (c *cgroup) remove() {
	for _, d := range []string{c.v2, c.cpu, c.acct, c.mem} {
		if d != "" {
			_ = os.Remove(d) // rmdir: fails harmlessly while a process is still in it
		}
	}
}

func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// processCPU is the user + system CPU time of pid, from /proc (used without cgroups).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTick = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTick
}

// vmHWM is the peak resident set size of pid (VmHWM in /proc/PID/status), in bytes.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
