package devstack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/ecs"
)

func TestWatched(t *testing.T) {
	for path, want := range map[string]bool{
		"decagon.yaml":                     true,
		"api/openapi.yaml":                 true,
		"internal/edge/edge.go":            true,
		"go.mod":                           true,
		"internal/edge/edge_test.go":       false,
		"README.md":                        false,
		"internal/dashboard/page.html":     false,
		"infra/decagon.yaml":               false,
		"internal/topology/testdata/x.yml": false,
	} {
		if got := Watched(path); got != want {
			t.Errorf("Watched(%q) = %v, want %v", path, got, want)
		}
	}
}

// write creates or rewrites a file of the tree with a modification time of its own, so that
// a change shows whatever the file system's timestamp granularity.
func write(t *testing.T, root, rel, content string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotChanges(t *testing.T) {
	root := t.TempDir()
	t0 := time.Now().Add(-time.Hour)
	for _, f := range []string{"main.go", "decagon.yaml", "api/openapi.yaml", "main_test.go", "README.md", ".git/x.go", "data/bin/y.go", "testdata/z.go"} {
		write(t, root, f, "x", t0)
	}
	w := &Watcher{Root: root, Skip: []string{filepath.Join(root, "data")}}
	before, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(before))
	for k := range before {
		keys = append(keys, filepath.ToSlash(k))
	}
	slices.Sort(keys)
	if strings.Join(keys, " ") != "api/openapi.yaml decagon.yaml main.go" {
		t.Fatalf("watched files %v", keys)
	}
	cases := []struct {
		name   string
		change func()
		want   []string
	}{
		{"nothing", func() {}, nil},
		{"a test and a README", func() {
			write(t, root, "main_test.go", "y", t0.Add(time.Minute))
			write(t, root, "README.md", "y", t0.Add(time.Minute))
		}, nil},
		{"the data dir", func() { write(t, root, "data/bin/y.go", "y", t0.Add(time.Minute)) }, nil},
		{"a Go file's time", func() { write(t, root, "main.go", "x", t0.Add(time.Minute)) }, []string{"main.go"}},
		{"a Go file's size", func() { write(t, root, "main.go", "xx", t0.Add(time.Minute)) }, []string{"main.go"}},
		{"decagon.yaml", func() { write(t, root, "decagon.yaml", "y", t0.Add(2*time.Minute)) }, []string{"decagon.yaml"}},
		{"a new Go file", func() { write(t, root, "internal/new.go", "x", t0) }, []string{filepath.Join("internal", "new.go")}},
		{"a removed Go file", func() { _ = os.Remove(filepath.Join(root, "internal", "new.go")) }, []string{filepath.Join("internal", "new.go")}},
	}
	for _, tc := range cases {
		tc.change()
		after, err := w.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if got := Changed(before, after); !slices.Equal(got, tc.want) {
			t.Errorf("%s: changed %v, want %v", tc.name, got, tc.want)
		}
		before = after
	}
}

// TestWatchDeploys runs the watcher over a tree with a build command that stands in for go
// build: a source change builds once and deploys every service of a running stack, whose
// tasks are all replaced; a failed build deploys nothing.
func TestWatchDeploys(t *testing.T) {
	s := startStack(t)
	root := t.TempDir()
	t0 := time.Now().Add(-time.Hour)
	write(t, root, "main.go", "package main", t0)
	var builds, deploys atomic.Int64
	var fail atomic.Bool
	w := &Watcher{Root: root, Interval: 50 * time.Millisecond,
		Build: func(context.Context) error {
			builds.Add(1)
			if fail.Load() {
				return errors.New("syntax error")
			}
			return nil
		},
		Deploy: func() error { deploys.Add(1); return s.DeployAll() }}
	if err := w.Prime(); err != nil { // before the change below, whenever Run starts
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	before := s.services()[0]
	write(t, root, "main.go", "package main // changed", t0.Add(time.Minute))
	eventually(t, 5*time.Second, "a build and a deployment", func() bool { return deploys.Load() == 1 })
	if n := builds.Load(); n != 1 {
		t.Fatalf("%d builds for one change", n)
	}
	var after ecs.Status
	eventually(t, 30*time.Second, "the deployment finished", func() bool {
		after = s.services()[0]
		return hasEvent(after, ecs.EventDeploymentFinished, "deployment 1 finished") && ecs.Steady(after)
	})
	for _, ts := range after.Tasks {
		if slices.Contains(taskIDs(before), ts.ID) {
			t.Errorf("task %s was not replaced", ts.ID)
		}
	}
	fail.Store(true)
	write(t, root, "main.go", "package main // broken", t0.Add(2*time.Minute))
	eventually(t, 5*time.Second, "the failed build", func() bool { return builds.Load() == 2 })
	// The fix builds and deploys; had the failed build deployed, that would be the third.
	fail.Store(false)
	write(t, root, "main.go", "package main // fixed", t0.Add(3*time.Minute))
	eventually(t, 5*time.Second, "the third build", func() bool { return builds.Load() == 3 && deploys.Load() >= 2 })
	if n := deploys.Load(); n != 2 {
		t.Fatalf("3 builds, one failed: %d deployments, want 2", n)
	}
}
