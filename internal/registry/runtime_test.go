package registry

import (
	"errors"
	"io/fs"
	"testing"
)

func TestGCSettings(t *testing.T) {
	const mib = 1 << 20
	v2 := map[string]string{
		"/proc/self/cgroup":                            "0::/ecs/task/container\n",
		"/sys/fs/cgroup/ecs/task/container/memory.max": "536870912\n",
	}
	cases := []struct {
		name        string
		env         map[string]string
		files       map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{"cgroup v2", nil, v2, gcPercent, 384 * mib},
		{"cgroup v2 without a limit", nil, map[string]string{
			"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/memory.max": "max\n"}, gcPercent, -1},
		{"cgroup v1", nil, map[string]string{
			"/proc/self/cgroup": "12:pids:/x\n5:memory:/decagon-bench\n4:cpu,cpuacct:/decagon-bench\n0::/\n",
			"/sys/fs/cgroup/memory/decagon-bench/memory.limit_in_bytes": "536870912\n"}, gcPercent, 384 * mib},
		{"cgroup v1 unlimited", nil, map[string]string{
			"/proc/self/cgroup": "5:memory:/\n", "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, gcPercent, -1},
		{"no cgroup file", nil, map[string]string{}, gcPercent, -1},
		{"limit unreadable", nil, map[string]string{"/proc/self/cgroup": "0::/a\n"}, gcPercent, -1},
		{"GOGC set", map[string]string{"GOGC": "100"}, v2, -1, 384 * mib},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "200MiB"}, v2, gcPercent, -1},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, v2, -1, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv, readFile := fakeProcess(tc.env, tc.files)
			percent, limit := gcSettings(getenv, readFile)
			if percent != tc.wantPercent || limit != tc.wantLimit {
				t.Fatalf("gcSettings = %d, %d; want %d, %d", percent, limit, tc.wantPercent, tc.wantLimit)
			}
		})
	}
}

func TestProcsSettings(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		files map[string]string
		want  int
	}{
		{"v2, 0.25 CPU", nil, map[string]string{"/proc/self/cgroup": "0::/task\n",
			"/sys/fs/cgroup/task/cpu.max": "25000 100000\n"}, 1},
		{"v2, 2 CPUs", nil, map[string]string{"/proc/self/cgroup": "0::/task\n",
			"/sys/fs/cgroup/task/cpu.max": "200000 100000\n"}, -1},
		{"v2, one CPU", nil, map[string]string{"/proc/self/cgroup": "0::/task\n",
			"/sys/fs/cgroup/task/cpu.max": "100000 100000\n"}, -1},
		{"v2, no limit", nil, map[string]string{"/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/cpu.max": "max 100000\n"}, -1},
		{"v1, 0.5 CPU", nil, map[string]string{"/proc/self/cgroup": "4:memory:/b\n2:cpu,cpuacct:/b\n0::/\n",
			"/sys/fs/cgroup/cpu/b/cpu.cfs_quota_us": "50000\n", "/sys/fs/cgroup/cpu/b/cpu.cfs_period_us": "100000\n"}, 1},
		{"v1, no quota", nil, map[string]string{"/proc/self/cgroup": "1:cpu:/\n",
			"/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}, -1},
		{"v1, period unreadable", nil, map[string]string{"/proc/self/cgroup": "1:cpu:/b\n",
			"/sys/fs/cgroup/cpu/b/cpu.cfs_quota_us": "25000\n"}, -1},
		{"no cgroup", nil, map[string]string{}, -1},
		{"GOMAXPROCS set", map[string]string{"GOMAXPROCS": "2"}, map[string]string{"/proc/self/cgroup": "0::/task\n",
			"/sys/fs/cgroup/task/cpu.max": "25000 100000\n"}, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv, readFile := fakeProcess(tc.env, tc.files)
			if got := procsSettings(getenv, readFile); got != tc.want {
				t.Fatalf("procsSettings = %d, want %d", got, tc.want)
			}
		})
	}
}

// fakeProcess is an environment and a file system holding files, for gcSettings and
// procsSettings.
func fakeProcess(env, files map[string]string) (getenv func(string) string, readFile func(string) ([]byte, error)) {
	getenv = func(k string) string { return env[k] }
	readFile = func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.ErrUnsupported}
	}
	return getenv, readFile
}
