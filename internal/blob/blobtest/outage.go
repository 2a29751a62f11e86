package blobtest

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// Outage kinds a target can simulate; Target.Outage returns the one it simulated.
const (
	// OutageDown: the S3 endpoint drops every connection, as a crashed or unreachable one does.
	OutageDown = "down"
	// OutageFull: the directory's disk is full (a 1 MiB tmpfs mounted over it, filled).
	OutageFull = "full"
)

// switchable passes requests to next until down is set; then it drops each connection without
// an answer, which the AWS SDK sees as the endpoint failing (and retries, then gives up).
type switchable struct {
	next http.Handler
	down atomic.Bool
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.down.Load() {
		s.next.ServeHTTP(w, r)
		return
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // drops the connection all the same
}

// MountTmpfs mounts a tmpfs of the given size ("1m") over dir and unmounts it in t.Cleanup (or
// earlier, through the returned function). What dir held is hidden until then. It skips t when
// the mount is not permitted (not root, no CAP_SYS_ADMIN, a container without it), saying so.
func MountTmpfs(t testing.TB, dir, size string, readOnly bool) (unmount func()) {
	t.Helper()
	opts := "size=" + size
	if readOnly {
		opts += ",ro"
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs over %s (%v: %s); run as root (or with CAP_SYS_ADMIN) to simulate a full or broken disk",
			dir, err, strings.TrimSpace(string(out)))
	}
	var done atomic.Bool
	unmount = func() {
		if done.Swap(true) {
			return
		}
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	}
	t.Cleanup(unmount)
	return unmount
}

// fill writes a file into dir until the disk is full and returns its name.
func fill(t testing.TB, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatalf("create filler: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			return name
		}
	}
}
