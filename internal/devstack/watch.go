package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Watcher is `decagon dev --watch`: it polls a source tree's modification times and, when a Go
// file, decagon.yaml or api/openapi.yaml changed, rebuilds the binary the tasks run and starts
// a rolling deployment of every service — a hot reload that drops no request. Polling needs no
// dependency and no inotify limits; a tree of a few hundred files costs a few milliseconds.
type Watcher struct {
	// Root is the source tree: the module's root directory.
	Root string
	// Skip are directories not watched besides hidden ones (the data dir, which the stack
	// writes to all the time).
	Skip []string
	// Interval is the polling period: one second when zero.
	Interval time.Duration
	// Build rebuilds the binary; a failure is logged and deploys nothing.
	Build func(ctx context.Context) error
	// Deploy starts the deployments (Stack.DeployAll).
	Deploy func() error
	// Logger receives a line per rebuild; slog.Default() when nil.
	Logger *slog.Logger

	last map[string]string // the tree as last built
}

// Prime takes the tree as it is now as the one built: changes are counted from here. Run
// primes the watcher itself if it was not.
func (w *Watcher) Prime() error {
	s, err := w.Snapshot()
	if err != nil {
		return err
	}
	w.last = s
	return nil
}

// Run polls until ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	if w.Interval <= 0 {
		w.Interval = time.Second
	}
	if w.Logger == nil {
		w.Logger = slog.Default()
	}
	if w.last == nil {
		if err := w.Prime(); err != nil {
			return err
		}
	}
	last := w.last
	tick := time.NewTicker(w.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		cur, err := w.Snapshot()
		if err != nil {
			w.Logger.Warn("watch: cannot read the source tree", "err", err)
			continue
		}
		changed := Changed(last, cur)
		if len(changed) == 0 {
			continue
		}
		last = cur
		w.Logger.Info("watch: sources changed, rebuilding", "files", changed)
		start := time.Now()
		if err := w.Build(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.Logger.Error("watch: build failed; the tasks keep running the last build", "err", err)
			continue
		}
		if err := w.Deploy(); err != nil {
			w.Logger.Error("watch: deployment not started", "err", err)
			continue
		}
		w.Logger.Info("watch: rebuilt, deploying every service", "build", time.Since(start).Round(time.Millisecond).String())
	}
}

// Snapshot returns the modification time and size of every watched file under Root, by path
// relative to it.
func (w *Watcher) Snapshot() (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(w.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		rel, _ := filepath.Rel(w.Root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || w.skipped(path)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !Watched(filepath.ToSlash(rel)) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed while walking
		}
		out[rel] = fmt.Sprintf("%d/%d", info.ModTime().UnixNano(), info.Size())
		return nil
	})
	return out, err
}

func (w *Watcher) skipped(dir string) bool {
	for _, s := range w.Skip {
		if a, err := filepath.Abs(s); err == nil {
			if b, err := filepath.Abs(dir); err == nil && a == b {
				return true
			}
		}
	}
	return false
}

// Watched reports whether a change of the file at rel (slash-separated, relative to the
// module's root) calls for a rebuild: Go sources and the two files the binary embeds. Tests
// are not in the binary.
func Watched(rel string) bool {
	switch {
	case rel == "decagon.yaml", rel == "api/openapi.yaml":
		return true
	case strings.HasSuffix(rel, "_test.go"):
		return false
	}
	return strings.HasSuffix(rel, ".go") || rel == "go.mod" || rel == "go.sum"
}

// Changed lists the paths added, removed or modified between two snapshots, sorted.
func Changed(before, after map[string]string) []string {
	var out []string
	for p, v := range after {
		if before[p] != v {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// GoBuild returns a Watcher.Build that runs `go build -o exe ./cmd/decagon` in root, into a
// temporary file renamed over exe: a task starting meanwhile never runs half a binary, and
// running tasks keep the file they started from.
func GoBuild(root, exe string, output func(string)) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		tmp := exe + ".new"
		cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, "./cmd/decagon")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if len(out) > 0 && output != nil {
			output(string(out))
		}
		if err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("go build: %w", err)
		}
		return os.Rename(tmp, exe)
	}
}

// CopyExecutable copies the running binary to dst (mode 0755), written to a temporary file
// and renamed: the binary the tasks of `decagon dev --watch` start from until the first
// rebuild.
func CopyExecutable(dst string) error {
	src, err := os.Executable()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copy the binary: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return fmt.Errorf("copy the binary: %w", err)
	}
	return os.Rename(tmp, dst)
}

// ModuleRoot returns the directory holding go.mod at or above dir.
func ModuleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("no go.mod at or above the working directory: --watch runs inside decagon's source tree")
		}
		d = parent
	}
}

// NewWatcher prepares `decagon dev --watch`: the tasks run a copy of this binary in the data
// dir, which each rebuild replaces; it returns the watcher and that copy's path.
func NewWatcher(dataDir string, logger *slog.Logger, stderr io.Writer) (*Watcher, string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, "", err
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		return nil, "", fmt.Errorf("--watch: %w", err)
	}
	exe, err := filepath.Abs(filepath.Join(dataDir, "bin", "decagon"))
	if err != nil {
		return nil, "", err
	}
	if err := CopyExecutable(exe); err != nil {
		return nil, "", err
	}
	w := &Watcher{Root: root, Skip: []string{dataDir}, Logger: logger,
		Build: GoBuild(root, exe, func(out string) { fmt.Fprint(stderr, out) })}
	// The tree as it is when the stack starts is the running build: an edit made while the
	// tasks start is the first rebuild.
	return w, exe, w.Prime()
}
