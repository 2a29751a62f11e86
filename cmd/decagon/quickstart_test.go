package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// quickstartMarker precedes each README block the quickstart test runs.
const quickstartMarker = "<!-- quickstart -->"

// quickstartBlocks returns the ```sh blocks of readme marked with quickstartMarker, in order.
// A marker not followed by a ```sh block is an error, so a marker cannot silently stop
// covering its block.
func quickstartBlocks(readme string) ([]string, error) {
	var blocks []string
	lines := strings.Split(readme, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != quickstartMarker {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j == len(lines) || strings.TrimSpace(lines[j]) != "```sh" {
			return nil, fmt.Errorf("README line %d: %s is not followed by a ```sh block", i+1, quickstartMarker)
		}
		var b strings.Builder
		for j++; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			b.WriteString(lines[j])
			b.WriteByte('\n')
		}
		if j == len(lines) {
			return nil, fmt.Errorf("README line %d: the quickstart block is not closed", i+1)
		}
		blocks = append(blocks, b.String())
		i = j
	}
	return blocks, nil
}

func TestQuickstartBlocks(t *testing.T) {
	tests := []struct {
		name, readme string
		want         []string
		err          bool
	}{
		{"none", "# x\n```sh\nls\n```\n", nil, false},
		{"two", "a\n<!-- quickstart -->\n```sh\necho 1\n```\n```text\n1\n```\n<!-- quickstart -->\n\n```sh\necho 2\necho 3\n```\n", []string{"echo 1\n", "echo 2\necho 3\n"}, false},
		{"marker before a text block", "<!-- quickstart -->\n```text\nx\n```\n", nil, true},
		{"unclosed", "<!-- quickstart -->\n```sh\nx\n", nil, true},
	}
	for _, tt := range tests {
		got, err := quickstartBlocks(tt.readme)
		if (err != nil) != tt.err || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: got %q, %v; want %q, error %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

// The README's quickstart runs verbatim: its marked blocks, in order, in one bash -euo pipefail,
// against a `decagon dev` started from the same directory, with the built binary first on PATH.
// A failing command fails the test, so the README cannot drift from the product.
func TestQuickstart(t *testing.T) {
	needTools(t, "bash", "curl", "sed", "cmp", "wc")
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := quickstartBlocks(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 5 {
		t.Fatalf("the README has %d quickstart blocks, want at least 5 (each marked %s)", len(blocks), quickstartMarker)
	}
	binDir, bin := cliBinary(t)
	work := t.TempDir()
	dev := startCLIDev(t, bin, work)

	// Each block is echoed before it runs, so a failure shows which one.
	var script strings.Builder
	for i, b := range blocks {
		fmt.Fprintf(&script, "echo '### quickstart block %d'\n%s", i+1, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script.String())
	cmd.Dir = work
	// API is the one value the README lets the reader change: where decagon dev listens.
	cmd.Env = cliEnv("PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "API="+dev.url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README's quickstart failed: %v\n%s", err, out.String())
	}
	// The blocks ran to the end, and verify, the last of them, passed.
	printed := strings.TrimSpace(out.String())
	last := printed[strings.LastIndex(printed, "\n")+1:]
	if !strings.Contains(last, " passed, 0 failed") {
		t.Fatalf("the quickstart's last line %q, want verify's count with 0 failed\n%s", last, printed)
	}
	t.Logf("quickstart output:\n%s", printed)
}
