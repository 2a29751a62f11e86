package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// FlagSet is one command's flags.
type FlagSet struct {
	*flag.FlagSet
	stdout io.Writer
}

// New returns the flag set of the command `decagon name`, whose usage shows args after the name
// ("[flags] tests|uploads"), the synopsis, and for every flag its environment variable and
// default. Usage goes to stdout when asked for with --help, to stderr after a mistake.
func New(name, args, synopsis string, stdout, stderr io.Writer) *FlagSet {
	fs := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), stdout: stdout}
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: decagon %s %s\n\n%s\n\nFlags go before or after the arguments; -- ends them. Each flag is also read\nfrom the environment variable shown, when not given on the command line:\n\n", name, args, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(w, "  --%s  [%s]\n      %s%s\n", f.Name, EnvName(f.Name), f.Usage, defaultText(f))
		})
	}
	return fs
}

// Parse parses args, flags before and after the arguments alike, then fills every flag not
// given on the command line from its environment variable. A bad value in the environment is an
// error naming the variable. It returns the DECAGON_* variables set that no flag reads, for the
// command to warn about: one environment serves every command, so a variable exported for
// `serve` may mean nothing to `token`. A --help is flag.ErrHelp (ExitCode 0).
//
// The standard flag package stops at the first argument; Go's own tools put flags first, but
// users of docker and kubectl write `decagon serve tests --addr :9000`. Reordering the
// arguments before flag.Parse keeps the standard package's syntax and errors (a CLI library
// would bring its own of both, and a dependency, for this one behaviour).
func (fs *FlagSet) Parse(args []string) (unused []string, err error) {
	if helpAsked(args) {
		fs.SetOutput(fs.stdout) // asked for: not an error, so not on stderr
	}
	if err := fs.FlagSet.Parse(reorder(fs.FlagSet, args)); err != nil {
		return nil, flagError{err}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	read := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		read[EnvName(f.Name)] = true
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = UsageError{fmt.Sprintf("%s: %v", EnvName(f.Name), e)}
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

// envPrefix starts every variable a flag reads.
const envPrefix = "DECAGON_"

// EnvName is the environment variable for a flag: --database-url is DECAGON_DATABASE_URL.
func EnvName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
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
		name, _ := strings.CutPrefix(a[1:], "-")
		name, _, hasValue := strings.Cut(name, "=")
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
