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
// Before any mutation, each distinct test selection runs once on the unmutated copy and must
// pass, so a kill is the mutation's doing, never a test that already fails or matches nothing.
//
// The copy holds the files git knows of (tracked, and new ones it does not ignore), so a test
// being written takes part and build output does not; the copy is made once and the Go build
// cache is shared, so each run compiles only what the mutation touched.
//
// It imports the standard library only, and runs git and go.
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
	"slices"
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
			fmt.Fprintf(stdout, "%-36s %-40s %s %s\n", m.Name, m.File, strings.Join(m.Packages, " "), m.Run)
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

	// A kill counts only if the same tests pass on the unmutated code: a test that already
	// fails (or a -run pattern that matches nothing) would otherwise "kill" every mutation.
	if err := baseline(dir, chosen, *timeout, stdout); err != nil {
		return err
	}

	var survived, broken []string
	fmt.Fprintf(stdout, "%-36s %-8s %-5s %s\n", "mutation", "result", "time", "failed tests")
	for _, m := range chosen {
		start := time.Now()
		res, failed, err := apply(dir, m, *timeout)
		if err != nil {
			res = "error"
			broken = append(broken, fmt.Sprintf("%s: %v", m.Name, err))
		} else if res == "survived" {
			survived = append(survived, m.Name)
		}
		fmt.Fprintf(stdout, "%-36s %-8s %-5s %s\n", m.Name, res, time.Since(start).Round(time.Second), strings.Join(failed, " "))
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

// baseline runs, once each, the distinct test selections of ms on the unmutated copy in dir, and
// fails when one of them does not pass there or runs no test at all. The code is the same for
// every selection, so each package's test binary is built once (go test -c) and run once per
// selection: linking, not testing, is most of a short run's time.
func baseline(dir string, ms []mutation, timeout time.Duration, stdout io.Writer) error {
	start := time.Now()
	bins, err := os.MkdirTemp("", "decagon-mutate-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bins)
	built := map[string]string{} // package → test binary
	seen := map[string]bool{}
	for _, m := range ms {
		key := m.Run + "\x00" + strings.Join(m.Packages, " ")
		if seen[key] {
			continue
		}
		seen[key] = true
		var all []byte
		for _, pkg := range m.Packages {
			bin, ok := built[pkg]
			if !ok {
				bin = filepath.Join(bins, fmt.Sprintf("%d.test", len(built)))
				if err := buildTest(dir, pkg, bin, timeout); err != nil {
					return fmt.Errorf("%s, unmutated: %w", m.Name, err)
				}
				built[pkg] = bin
			}
			out, err := runTest(dir, pkg, bin, m.Run, timeout)
			all = append(all, out...)
			if err != nil {
				return fmt.Errorf("%s: the tests fail without the mutation (-run %q %s): %v\n%s",
					m.Name, m.Run, pkg, err, tail(out, 30))
			}
		}
		if !ranSelection(all, m.Run) {
			return fmt.Errorf("%s: -run %q selects no test in %s", m.Name, m.Run, strings.Join(m.Packages, " "))
		}
	}
	fmt.Fprintf(stdout, "baseline: %d test selections pass unmutated (%s)\n", len(seen), time.Since(start).Round(time.Second))
	return nil
}

// buildTest compiles the tests of pkg (a ./ path in dir) into bin.
func buildTest(dir, pkg, bin string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c %s: %v\n%s", pkg, err, tail(out, 20))
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s has no tests", pkg)
	}
	return nil
}

// runTest runs a test binary of pkg as go test would: in the package's directory, verbose,
// with CI=true so that no PostgreSQL test may skip.
func runTest(dir, pkg, bin, run string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.v", "-test.count=1", "-test.run", run, "-test.timeout", timeout.String())
	cmd.Dir = filepath.Join(dir, filepath.FromSlash(pkg))
	cmd.Env = append(os.Environ(), "CI=true")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return out, fmt.Errorf("tests did not finish within %s", timeout)
	}
	return out, err
}

// apply writes the mutated file into dir, runs the mutation's tests and puts the file back. It
// returns "killed" and the tests that failed, or "survived" when they all passed.
func apply(dir string, m mutation, timeout time.Duration) (string, []string, error) {
	path := filepath.Join(dir, filepath.FromSlash(m.File))
	orig, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	if n := bytes.Count(orig, []byte(m.Old)); n != 1 {
		return "", nil, fmt.Errorf("%s: the text to mutate occurs %d times, want exactly 1", m.File, n)
	}
	mutated := bytes.Replace(orig, []byte(m.Old), []byte(m.New), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		return "", nil, err
	}
	defer os.WriteFile(path, orig, 0o644)

	passed, out, err := goTest(dir, m, timeout)
	switch {
	case err != nil:
		return "", nil, err
	case passed:
		return "survived", nil, nil
	}
	return "killed", failedTests(out), nil
}

// failedTests returns the innermost failed tests of go test -v output (a subtest rather than
// its parent), at most three, so the table says which case noticed the mutation.
func failedTests(out []byte) []string {
	var names []string
	for line := range strings.SplitSeq(string(out), "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- FAIL: ")
		if f := strings.Fields(name); ok && len(f) > 0 {
			names = append(names, f[0])
		}
	}
	var leaves []string
	for _, n := range names {
		parent := slices.ContainsFunc(names, func(o string) bool { return strings.HasPrefix(o, n+"/") })
		if !parent && !slices.Contains(leaves, n) {
			leaves = append(leaves, n)
		}
	}
	if len(leaves) > 3 {
		leaves = append(leaves[:3], fmt.Sprintf("(+%d)", len(leaves)-3))
	}
	return leaves
}

// goTest runs m's tests in dir and says whether they passed. A build failure, a run past
// timeout or a selection that runs no test is an error: none of them is a test's verdict.
func goTest(dir string, m mutation, timeout time.Duration) (passed bool, out []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"test", "-count=1", "-v"}
	if m.Run != "" {
		args = append(args, "-run", m.Run)
	}
	args = append(args, m.Packages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CI=true")
	out, err = cmd.CombinedOutput()
	if ctx.Err() != nil {
		return false, out, fmt.Errorf("tests did not finish within %s", timeout)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return false, out, err
	}
	// A mutation that does not compile is not a test's catch: report it as broken.
	if bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")) {
		return false, out, fmt.Errorf("the code does not build:\n%s", tail(out, 20))
	}
	if err == nil && !ranSelection(out, m.Run) {
		return false, out, fmt.Errorf("-run %q selects no test in %s", m.Run, strings.Join(m.Packages, " "))
	}
	return err == nil, out, nil
}

// copyRepo copies the files of the repository in the working directory that git tracks or
// would track (untracked but not ignored) to a temporary directory; infra/, its own module, is
// left out.
func copyRepo() (string, error) {
	out, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
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

// ranSelection says whether the -v output of a passing run shows a test passing at the depth
// of the run pattern: a pattern for subtests ("TestX/Case") must have run a subtest, since go
// test does not warn when only the parent matches.
func ranSelection(out []byte, run string) bool {
	depth := strings.Count(run, "/")
	for line := range strings.SplitSeq(string(out), "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- PASS: ")
		if f := strings.Fields(name); ok && len(f) > 0 && strings.Count(f[0], "/") >= depth {
			return true
		}
	}
	return false
}

func tail(b []byte, lines int) string {
	s := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(s) > lines {
		s = s[len(s)-lines:]
	}
	return strings.Join(s, "\n")
}
