package cli

import (
	"bytes"
	"errors"
	"flag"
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
		{[]string{"-addr", ":9000", "tests"}, "-addr :9000 -- tests"},
		{[]string{"--addr=:9000", "tests", "--emf", "x"}, "--addr=:9000 --emf -- tests x"},
		{[]string{"tests", "--", "--addr", ":9000"}, "-- tests --addr :9000"},
		{[]string{"-", "--nope", "v"}, "--nope -- - v"},
		{[]string{"tests", "--addr"}, "--addr -- tests"},
		{[]string{"--emf=false", "tests"}, "--emf=false -- tests"},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.String("addr", "", "")
		fs.Bool("emf", false, "")
		if got := strings.Join(reorder(fs, tc.args), " "); got != tc.want {
			t.Errorf("reorder(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func newTest() (*FlagSet, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return New("serve", "[flags] tests|uploads", "Runs one service.", &out, &errOut), &out, &errOut
}

func TestParse(t *testing.T) {
	t.Setenv("DECAGON_DRAIN", "5s")
	t.Setenv("DECAGON_BLOB_URL", "s3://b")
	t.Setenv("DECAGON_TEST_DATABASE_URL", "x")
	fs, _, _ := newTest()
	addr := fs.String("addr", ":8080", "")
	drain := fs.Duration("drain", time.Second, "")
	unused, err := fs.Parse([]string{"tests", "--addr", ":9000"})
	if err != nil || *addr != ":9000" || *drain != 5*time.Second || fs.NArg() != 1 || fs.Arg(0) != "tests" {
		t.Fatalf("err %v, addr %q, drain %v, args %q", err, *addr, *drain, fs.Args())
	}
	if strings.Join(unused, ",") != "DECAGON_BLOB_URL" {
		t.Errorf("unused %v, want DECAGON_BLOB_URL only", unused)
	}
	t.Setenv("DECAGON_DRAIN", "soon")
	fs, _, _ = newTest()
	fs.Duration("drain", time.Second, "")
	if _, err := fs.Parse(nil); ExitCode(err) != 2 || !strings.Contains(err.Error(), "DECAGON_DRAIN") {
		t.Errorf("bad environment value: %v (exit %d)", err, ExitCode(err))
	}
}

// --help exits 0 and prints to stdout; the usage names the arguments and human defaults.
func TestHelp(t *testing.T) {
	fs, out, errOut := newTest()
	fs.Size("max-upload", 10<<20, "largest")
	fs.Duration("ttl", time.Hour, "lifetime")
	fs.Duration("drain", 90*time.Second, "drain")
	fs.String("data-dir", ".decagon", "dir")
	_, err := fs.Parse([]string{"tests", "--help"})
	if !errors.Is(err, flag.ErrHelp) || ExitCode(err) != 0 || errOut.Len() != 0 {
		t.Fatalf("--help: %v, exit %d, stderr %q", err, ExitCode(err), errOut)
	}
	for _, want := range []string{"decagon serve [flags] tests|uploads", "(default 10MiB)", "(default 1h)", "(default 1m30s)", `(default ".decagon")`, "[DECAGON_MAX_UPLOAD]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out)
		}
	}
	fs, _, errOut = newTest()
	if _, err := fs.Parse([]string{"--nope"}); ExitCode(err) != 2 || !strings.Contains(errOut.String(), "usage:") {
		t.Errorf("unknown flag: exit %d, stderr %q", ExitCode(err), errOut)
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[string]string{"10MiB": "10MiB", "10485760": "10MiB", "1536KiB": "1536KiB", "100": "100", "1GiB": "1GiB", "0": "0", "7B": "7"} {
		var s size
		if err := s.Set(in); err != nil || s.String() != want {
			t.Errorf("%s: %q %v, want %q", in, s.String(), err, want)
		}
	}
	for _, bad := range []string{"10MB", "-1", "MiB", "99999999999GiB", "1.5MiB"} {
		var s size
		if err := s.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTargets(t *testing.T) {
	fs, _, _ := newTest()
	tg := fs.Targets("target", "")
	if _, err := fs.Parse([]string{"--target", "tests=127.0.0.1:1, 127.0.0.1:2;uploads=[::1]:3", "--target", "tests=h:4"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(tg["tests"], " ") != "127.0.0.1:1 127.0.0.1:2 h:4" || strings.Join(tg["uploads"], " ") != "[::1]:3" {
		t.Fatalf("targets %v", tg)
	}
	for _, bad := range []string{"=h:1", "tests", "tests=nohost"} {
		fs, _, _ := newTest()
		fs.Targets("target", "")
		if _, err := fs.Parse([]string{"--target", bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A command without arguments refuses one, naming itself.
func TestParseNoArgs(t *testing.T) {
	fs, _, _ := newTest()
	fs.String("addr", "", "")
	if _, err := fs.ParseNoArgs([]string{"--addr", ":1"}); err != nil {
		t.Fatal(err)
	}
	fs, _, _ = newTest()
	if _, err := fs.ParseNoArgs([]string{"extra"}); ExitCode(err) != 2 || !strings.Contains(err.Error(), `serve takes no arguments, got ["extra"]`) {
		t.Errorf("argument: %v", err)
	}
	if fs.Stdout() != fs.stdout {
		t.Error("Stdout is not the command's")
	}
}
