// Command mutate is decagon's mutation check: it applies each named mutation of mutations.go to
// a copy of the repository, one at a time, runs the tests that should notice it, and fails if any
// mutation survives (its tests still pass). It answers "would the suite catch this regression?"
// for the places where a regression would hurt most: access scoping, token checks, the WAF's
// fail-closed path, idempotency, size limits.
//
//	go run ./tools/mutate            # every mutation
//	go run ./tools/mutate -run waf   # those whose name contains "waf"
//	go run ./tools/mutate -list      # the table, nothing run
//
// The copy is made with `git ls-files`, so only tracked files take part; the Go build cache is
// shared, so each run compiles only what the mutation touched.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// mutation is one deliberate bug: Old is replaced by New in File (Old must occur exactly once, so
// a mutation that no longer matches the code is an error, not a silent pass), then `go test -run
// Run Packages...` must fail.
type mutation struct {
	Name     string
	File     string
	Old, New string
	Packages []string
	Run      string // a -run pattern; "" runs every test of the packages
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	filter := fs.String("run", "", "only mutations whose name contains this")
	list := fs.Bool("list", false, "print the mutations and exit")
	timeout := fs.Duration("timeout", 5*time.Minute, "bound on each mutation's test run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var chosen []mutation
	for _, m := range mutations {
		if strings.Contains(m.Name, *filter) {
			chosen = append(chosen, m)
		}
	}
	if *list {
		for _, m := range chosen {
			fmt.Fprintf(stdout, "%-36s %s\n", m.Name, m.File)
		}
		return nil
	}
	if len(chosen) == 0 {
		return fmt.Errorf("no mutation matches %q", *filter)
	}
	dir, err := copyRepo()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var survived, broken []string
	fmt.Fprintf(stdout, "%-36s %-8s %s\n", "mutation", "result", "time")
	for _, m := range chosen {
		start := time.Now()
		res, err := apply(dir, m, *timeout)
		if err != nil {
			res = "error"
			broken = append(broken, fmt.Sprintf("%s: %v", m.Name, err))
		} else if res == "survived" {
			survived = append(survived, m.Name)
		}
		fmt.Fprintf(stdout, "%-36s %-8s %s\n", m.Name, res, time.Since(start).Round(time.Second))
	}
	fmt.Fprintf(stdout, "%d killed, %d survived, %d errors\n", len(chosen)-len(survived)-len(broken), len(survived), len(broken))
	if len(broken) > 0 {
		return fmt.Errorf("mutations that could not be applied:\n  %s", strings.Join(broken, "\n  "))
	}
	if len(survived) > 0 {
		return fmt.Errorf("mutations the tests did not notice: %s", strings.Join(survived, ", "))
	}
	return nil
}

// apply writes the mutated file into dir, runs the mutation's tests and puts the file back. It
// returns "killed" when the tests failed, "survived" when they passed.
func apply(dir string, m mutation, timeout time.Duration) (string, error) {
	path := filepath.Join(dir, filepath.FromSlash(m.File))
	orig, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if n := bytes.Count(orig, []byte(m.Old)); n != 1 {
		return "", fmt.Errorf("%s: the text to mutate occurs %d times, want exactly 1", m.File, n)
	}
	mutated := bytes.Replace(orig, []byte(m.Old), []byte(m.New), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		return "", err
	}
	defer os.WriteFile(path, orig, 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"test", "-count=1"}
	if m.Run != "" {
		args = append(args, "-run", m.Run)
	}
	args = append(args, m.Packages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CI=true")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return "", fmt.Errorf("tests did not finish within %s", timeout)
	}
	if err == nil {
		return "survived", nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return "", err
	}
	// A mutation that does not compile is not a test's catch: report it as broken.
	if bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")) {
		return "", fmt.Errorf("the mutated code does not build:\n%s", tail(out, 20))
	}
	return "killed", nil
}

// copyRepo copies the tracked files of the repository in the working directory to a temporary
// directory.
func copyRepo() (string, error) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		return "", fmt.Errorf("git ls-files (run from the repository): %w", err)
	}
	dir, err := os.MkdirTemp("", "decagon-mutate-")
	if err != nil {
		return "", err
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if name == "" || strings.HasPrefix(name, "infra/") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func tail(b []byte, lines int) string {
	s := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(s) > lines {
		s = s[len(s)-lines:]
	}
	return strings.Join(s, "\n")
}
