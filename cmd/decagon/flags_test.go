package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Flags go before and after the arguments; -- ends them.
func TestReorder(t *testing.T) {
	cases := []struct {
		args []string
		want string // flags, then "--", then the arguments
	}{
		{[]string{"tests", "--addr", ":9000"}, "--addr :9000 -- tests"},
		{[]string{"--addr", ":9000", "tests"}, "--addr :9000 -- tests"},
		{[]string{"--addr=:9000", "tests", "--cloudwatch-emf", "x"}, "--addr=:9000 --cloudwatch-emf -- tests x"},
		{[]string{"tests", "--", "--addr", ":9000"}, "-- tests --addr :9000"},
		{[]string{"-", "--nope", "v"}, "--nope -- - v"},
		{[]string{"tests", "--addr"}, "--addr -- tests"},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.String("addr", "", "")
		fs.Bool("cloudwatch-emf", false, "")
		if got := strings.Join(reorder(fs, tc.args), " "); got != tc.want {
			t.Errorf("reorder(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestParseFlagsAfterArguments(t *testing.T) {
	fs := newFlagSet("serve", "[flags] tests|uploads", "", &bytes.Buffer{})
	addr := fs.String("addr", ":8080", "")
	if _, err := parseFlags(fs, []string{"tests", "--addr", ":9000"}); err != nil || *addr != ":9000" || fs.Arg(0) != "tests" || fs.NArg() != 1 {
		t.Fatalf("err %v, addr %q, args %q", err, *addr, fs.Args())
	}
}

// `decagon <cmd> --help` exits 0 and prints the usage with the arguments and human defaults.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"dev", "edge", "serve", "migrate", "token"} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{cmd, "--help"}, &out, &errOut)
		if exitCode(err) != 0 {
			t.Errorf("%s --help: exit %d (%v)", cmd, exitCode(err), err)
		}
		_ = out
	}
	fs := newFlagSet("serve", "[flags] tests|uploads", "Runs one service.", &bytes.Buffer{})
	size := byteSize(10 << 20)
	fs.Var(&size, "max-upload", "largest")
	fs.Duration("ttl", time.Hour, "lifetime")
	fs.Duration("drain", 90*time.Second, "drain")
	fs.String("data-dir", ".decagon", "dir")
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	fs.Usage()
	for _, want := range []string{"decagon serve [flags] tests|uploads", "(default 10MiB)", "(default 1h)", "(default 1m30s)", `(default ".decagon")`, "[DECAGON_MAX_UPLOAD]"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, buf.String())
		}
	}
	if err := run(context.Background(), []string{"serve", "--nope"}, &bytes.Buffer{}, &bytes.Buffer{}); exitCode(err) != 2 {
		t.Errorf("unknown flag: exit %d, want 2", exitCode(err))
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]string{"10MiB": "10MiB", "10485760": "10MiB", "1536KiB": "1536KiB", "100": "100", "1GiB": "1GiB", "0": "0"} {
		var b byteSize
		if err := b.Set(in); err != nil || b.String() != want {
			t.Errorf("%s: %q %v, want %q", in, b.String(), err, want)
		}
	}
	var b byteSize
	if err := b.Set("10MB"); err == nil {
		t.Error("10MB accepted")
	}
}

// A DECAGON_* variable the command does not read is warned about; one it reads is not.
func TestUnusedEnvironment(t *testing.T) {
	t.Setenv("DECAGON_BLOB_URL", "s3://b")
	t.Setenv("DECAGON_USER", "eve")
	t.Setenv("DECAGON_TEST_DATABASE_URL", "x")
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	// token reads DECAGON_USER; it has no --blob-url. No stack ran: the error is expected.
	_ = run(context.Background(), []string{"token", "--data-dir", dir}, &out, &errOut)
	if !strings.Contains(errOut.String(), "DECAGON_BLOB_URL is set but token does not read it") ||
		strings.Contains(errOut.String(), "DECAGON_USER") || strings.Contains(errOut.String(), "DECAGON_TEST_") {
		t.Fatalf("stderr %q", errOut.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "decagon version v") || !strings.Contains(out.String(), "(commit ") {
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
			t.Errorf("run %d: %q, want %q", i, out.String(), want)
		}
	}
	if err := run(context.Background(), []string{"migrate", "extra"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, new(usageError)) {
		t.Errorf("migrate with an argument: %v", err)
	}
}
