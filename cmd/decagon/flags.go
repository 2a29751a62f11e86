package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// newFlagSet returns a flag set for a subcommand whose usage lists, for every flag, the
// DECAGON_* environment variable that also sets it. args is the command's synopsis after its
// name ("[flags] tests|uploads").
func newFlagSet(name, args, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: decagon %s %s\n\n%s\n\nFlags go before or after the arguments; -- ends them. Each flag is also read\nfrom the environment variable shown, when not given on the command line:\n\n", name, args, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(w, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, defaultText(f))
		})
	}
	return fs
}

// defaultText is a flag's default as a person writes it: "10MiB", "1h", ".decagon".
func defaultText(f *flag.Flag) string {
	if f.DefValue == "" {
		return ""
	}
	if g, ok := f.Value.(flag.Getter); ok {
		switch v := g.Get().(type) {
		case time.Duration:
			return " (default " + humanDuration(v) + ")"
		case string:
			return fmt.Sprintf(" (default %q)", v)
		}
	}
	return " (default " + f.DefValue + ")"
}

// humanDuration drops the zero units time.Duration.String writes: 1h, 1h30m, 10s.
func humanDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// envPrefix starts every variable a flag reads.
const envPrefix = "DECAGON_"

// envName is the environment variable for a flag: --database-url is DECAGON_DATABASE_URL.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, flags before and after the arguments alike, then fills every flag not
// given on the command line from its environment variable. A bad value in the environment is an
// error naming the variable. It returns the DECAGON_* variables set that no flag of fs reads,
// for the command to warn about: one environment serves every command, so a variable exported
// for `serve` may mean nothing to `token`.
//
// The standard flag package stops at the first argument; Go's own tools put flags first, but
// users of docker and kubectl write `decagon serve tests --addr :9000`. Reordering the
// arguments before flag.Parse keeps the standard package's syntax and errors (a CLI library
// would bring its own of both, and a dependency, for this one behaviour).
func parseFlags(fs *flag.FlagSet, args []string) (unused []string, err error) {
	if helpAsked(args) {
		fs.SetOutput(os.Stdout) // asked for: not an error, so not on stderr
	}
	if err := fs.Parse(reorder(fs, args)); err != nil {
		return nil, flagError{err}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	read := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		read[envName(f.Name)] = true
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), e)
			}
		}
	})
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		// DECAGON_TEST_* configure the test suites, not a command.
		if strings.HasPrefix(name, envPrefix) && !strings.HasPrefix(name, envPrefix+"TEST_") && !read[name] {
			unused = append(unused, name)
		}
	}
	slices.Sort(unused)
	return unused, err
}

// reorder moves the flags of args (with their values) ahead of the other arguments; everything
// after "--" stays an argument. A flag that takes a value takes the next argument unless written
// --name=value; boolean flags never do, as with the flag package.
func reorder(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name, hasValue := strings.CutPrefix(strings.TrimPrefix(a, "-"), "-")
		name, _, hasValue = strings.Cut(name, "=")
		if hasValue || i+1 == len(args) {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // flag.Parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		i++
		flags = append(flags, args[i])
	}
	return append(append(flags, "--"), rest...)
}

// helpAsked reports whether args ask for the usage before any "--".
func helpAsked(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// byteSize is a flag holding a size in bytes, written as 10485760, 10MiB, 512KiB or 1GiB.
type byteSize int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}

// String writes the size with the largest unit that divides it: 10MiB, 1536KiB, 100.
func (b *byteSize) String() string {
	for _, u := range sizeUnits[:3] {
		if n := int64(*b); n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Set(s string) error {
	for _, u := range sizeUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n < 0 || n > (1<<62)/u.mult {
			return fmt.Errorf("invalid size %q: use bytes or a number with KiB, MiB or GiB", s)
		}
		*b = byteSize(n * u.mult)
		return nil
	}
	return fmt.Errorf("invalid size %q", s)
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// exitCode is 0 for a help request, 2 for usage errors, 1 otherwise.
func exitCode(err error) int {
	var u usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u), isFlagError(err):
		return 2
	}
	return 1
}

// isFlagError reports whether err came from the flag package's parsing (an unknown flag, a bad
// value): those are usage errors too.
func isFlagError(err error) bool {
	var f flagError
	return errors.As(err, &f)
}

// flagError marks an error fs.Parse returned.
type flagError struct{ error }

func (f flagError) Unwrap() error { return f.error }
