package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/cli"
)

// Every command answers --help with exit status 0.
func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"dev", "edge", "serve", "migrate", "token"} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{cmd, "--help"}, &out, &errOut)
		if cli.ExitCode(err) != 0 || !strings.Contains(out.String(), "usage: decagon "+cmd) {
			t.Errorf("%s --help: exit %d (%v), stdout %q", cmd, cli.ExitCode(err), err, out.String())
		}
	}
	var out bytes.Buffer
	_ = run(context.Background(), []string{"serve", "--help"}, &out, &out)
	if !strings.Contains(out.String(), "serve [flags] tests|uploads") {
		t.Errorf("serve's usage does not name its services:\n%s", out.String())
	}
}

// A DECAGON_* variable the command does not read is warned about; one it reads is not.
func TestUnusedEnvironment(t *testing.T) {
	t.Setenv("DECAGON_BLOB_URL", "s3://b")
	t.Setenv("DECAGON_USER", "eve")
	var out, errOut bytes.Buffer
	// token reads DECAGON_USER and has no --blob-url. No stack ran: its error is expected.
	_ = run(context.Background(), []string{"token", "--data-dir", t.TempDir()}, &out, &errOut)
	if !strings.Contains(errOut.String(), "DECAGON_BLOB_URL is set but token does not read it") || strings.Contains(errOut.String(), "DECAGON_USER") {
		t.Fatalf("stderr %q", errOut.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^decagon version v\S+ \(commit \S+, go\S+, \S+/\S+\)\n$`).MatchString(out.String()) {
		t.Fatalf("version %q", out.String())
	}
}

// migrate says what it did, truthfully: the first run applies, the second finds nothing to do.
func TestMigrateSaysWhatItDid(t *testing.T) {
	dir := t.TempDir()
	for i, want := range []string{`^applied [1-9][0-9]* migrations? \(sqlite\)$`, `^schema already up to date \(sqlite\)$`} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"migrate", "--data-dir", dir}, &out, &errOut); err != nil {
			t.Fatalf("run %d: %v %s", i, err, errOut.String())
		}
		if !regexp.MustCompile(want).MatchString(strings.TrimSpace(out.String())) {
			t.Errorf("run %d: %q, want %s", i, out.String(), want)
		}
	}
	if err := run(context.Background(), []string{"migrate", "extra"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, new(cli.UsageError)) {
		t.Errorf("migrate with an argument: %v", err)
	}
}
