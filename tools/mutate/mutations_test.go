package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestMutationsApply checks the table against today's code without running any mutation, so
// that `go test ./...` notices a refactor that leaves a mutation behind: each names a file
// holding its Old text exactly once, changes it, and names its packages and tests.
func TestMutationsApply(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	for _, m := range mutations {
		t.Run(m.Name, func(t *testing.T) {
			if m.Name == "" || strings.ContainsAny(m.Name, " \t") || seen[m.Name] {
				t.Fatalf("name %q: empty, with spaces or used twice", m.Name)
			}
			seen[m.Name] = true
			src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.File)))
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(src, []byte(m.Old)); m.Old == "" || n != 1 {
				t.Fatalf("%s holds the text to mutate %d times, want exactly 1:\n%s", m.File, n, m.Old)
			}
			if m.New == m.Old {
				t.Fatal("New is Old: nothing would change")
			}
			if m.Run == "" || len(m.Packages) == 0 {
				t.Fatal("no -run pattern or no package: name the tests that must notice")
			}
			for _, level := range strings.Split(m.Run, "/") {
				if _, err := regexp.Compile(level); err != nil {
					t.Fatalf("-run %q: %v", m.Run, err)
				}
			}
			for _, p := range m.Packages {
				if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil || !fi.IsDir() || !strings.HasPrefix(p, "./") {
					t.Fatalf("package %q is not a directory of the module (%v)", p, err)
				}
			}
		})
	}
}

func TestFailedTests(t *testing.T) {
	out := []byte(`=== RUN   TestA
--- FAIL: TestA (0.00s)
    --- FAIL: TestA/one (0.00s)
    --- PASS: TestA/two (0.00s)
    --- FAIL: TestA/three (0.00s)
--- FAIL: TestB (0.01s)
--- FAIL: TestC (0.00s)
    --- FAIL: TestC/x (0.00s)
    --- FAIL: TestC/y (0.00s)
FAIL
`)
	if got, want := failedTests(out), []string{"TestA/one", "TestA/three", "TestB", "(+2)"}; !slices.Equal(got, want) {
		t.Errorf("failedTests = %q, want %q", got, want)
	}
	if got := failedTests([]byte("ok  \tpkg\t0.1s\n")); len(got) != 0 {
		t.Errorf("failedTests of a pass = %q", got)
	}
}

func TestRanSelection(t *testing.T) {
	out := []byte("=== RUN   TestX\n=== RUN   TestX/Get\n--- PASS: TestX (0.00s)\n    --- PASS: TestX/Get (0.00s)\nPASS\n")
	parentOnly := []byte("=== RUN   TestX\n--- PASS: TestX (0.00s)\nPASS\n")
	for _, c := range []struct {
		out  []byte
		run  string
		want bool
	}{
		{out, "^TestX$", true},
		{out, "^TestX$/^Get$", true},
		{parentOnly, "^TestX$/^Nope$", false}, // the parent ran, no subtest matched
		{[]byte("testing: warning: no tests to run\nPASS\n"), "^TestY$", false},
	} {
		if got := ranSelection(c.out, c.run); got != c.want {
			t.Errorf("ranSelection(%q, %q) = %v, want %v", c.out, c.run, got, c.want)
		}
	}
}
