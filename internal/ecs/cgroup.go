package ecs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupRoot is where cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cfsPeriod is the CFS period written for v1 and v2 alike: 100 ms, the kernel's default.
const cfsPeriod = 100000

// Limits are a task's size, as its task definition gives it.
type Limits struct {
	// CPU is in CPU units: 1024 is one vCPU.
	CPU int
	// MemoryMiB is the hard limit: past it the task is killed, as Fargate does.
	MemoryMiB int
	// ReservationMiB is the soft limit (memoryReservation); 0 for none.
	ReservationMiB int
}

// vCPU returns the CPU in vCPUs (0.25 for 256 units); 1 when unset, so that a task without a
// size still has a meaningful CPU percentage.
func (l Limits) vCPU() float64 {
	if l.CPU <= 0 {
		return 1
	}
	return float64(l.CPU) / 1024
}

// cgroups creates one cgroup per task below the cgroups of this process, so that a task's
// limits nest inside whatever limits the stack itself runs under. Version 1 (the cpu and
// memory hierarchies) and version 2 (the unified hierarchy) are both handled.
type cgroups struct {
	v2     bool
	cpu    string // v1: the cpu hierarchy's directory of this process; v2: the unified one
	memory string // v1: the memory hierarchy's directory of this process; unused on v2
}

// cgroupDirs are the directories of one task's cgroup (one on v2, two on v1).
type cgroupDirs []string

// detectCgroups finds this process's cgroups and checks that a child can be created in each
// with the limits files present. The error says why limits cannot be applied.
func detectCgroups() (*cgroups, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	paths := parseProcCgroup(self)
	var c cgroups
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		p, ok := paths[""]
		if !ok {
			return nil, errors.New("cgroups: unified hierarchy mounted but this process is in none")
		}
		c.v2, c.cpu = true, filepath.Join(cgroupRoot, p)
	} else {
		cpu, okc := paths["cpu"]
		mem, okm := paths["memory"]
		if !okc || !okm {
			return nil, errors.New("cgroups: no cpu or memory hierarchy (v1) and no unified one (v2)")
		}
		c.cpu, c.memory = filepath.Join(cgroupRoot, "cpu", cpu), filepath.Join(cgroupRoot, "memory", mem)
	}
	probe := fmt.Sprintf("decagon-%d-probe", os.Getpid())
	dirs, err := c.create(probe, Limits{CPU: 1024, MemoryMiB: 512})
	if err != nil {
		return nil, err
	}
	if err := dirs.remove(); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseProcCgroup maps each controller of /proc/self/cgroup to its path; the v2 entry's key is
// "". A line "2:cpu,cpuacct:/x" gives both controllers.
func parseProcCgroup(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			out[ctl] = parts[2]
		}
	}
	return out
}

// create makes the cgroup of one task and writes its limits.
func (c *cgroups) create(name string, l Limits) (cgroupDirs, error) {
	quota := cfsPeriod * l.CPU / 1024
	mem := strconv.Itoa(l.MemoryMiB << 20)
	if c.v2 {
		// The parent must hand its cpu and memory controllers down; on a cgroup that holds
		// processes this fails (v2's no-internal-processes rule), and we say so.
		if err := writeFile(filepath.Join(c.cpu, "cgroup.subtree_control"), "+cpu +memory"); err != nil {
			return nil, err
		}
		dir := filepath.Join(c.cpu, name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("cgroups: %w", err)
		}
		dirs := cgroupDirs{dir}
		files := [][2]string{{"cpu.max", fmt.Sprintf("%d %d", quota, cfsPeriod)}, {"memory.max", mem}}
		if l.ReservationMiB > 0 {
			files = append(files, [2]string{"memory.low", strconv.Itoa(l.ReservationMiB << 20)})
		}
		return dirs, dirs.write(dir, files)
	}
	cpu, memory := filepath.Join(c.cpu, name), filepath.Join(c.memory, name)
	var dirs cgroupDirs
	for _, d := range []string{cpu, memory} {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			_ = dirs.remove()
			return nil, fmt.Errorf("cgroups: %w", err)
		}
		dirs = append(dirs, d)
	}
	if err := dirs.write(cpu, [][2]string{{"cpu.cfs_period_us", strconv.Itoa(cfsPeriod)}, {"cpu.cfs_quota_us", strconv.Itoa(quota)}}); err != nil {
		return nil, err
	}
	files := [][2]string{{"memory.limit_in_bytes", mem}}
	if l.ReservationMiB > 0 {
		files = append(files, [2]string{"memory.soft_limit_in_bytes", strconv.Itoa(l.ReservationMiB << 20)})
	}
	return dirs, dirs.write(memory, files)
}

// write writes the files of dir, removing the cgroup on the first failure.
func (d cgroupDirs) write(dir string, files [][2]string) error {
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f[0]), f[1]); err != nil {
			_ = d.remove()
			return err
		}
	}
	return nil
}

// add moves pid into every directory of the cgroup.
func (d cgroupDirs) add(pid int) error {
	for _, dir := range d {
		if err := writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes the cgroup; its processes must have exited.
func (d cgroupDirs) remove() error {
	var errs []error
	for _, dir := range d {
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("cgroups: %w", err))
		}
	}
	return errors.Join(errs...)
}

func writeFile(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("cgroups: write %s: %w", path, err)
	}
	return nil
}
