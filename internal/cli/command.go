package cli

import "io"

// Stdout is the command's standard output: where a flag's "-" points (--access-log -) and
// where flags that print (--cloudwatch-emf) write. A package's Flags method reads it after
// Parse, so that the command's tests can capture it.
func (fs *FlagSet) Stdout() io.Writer { return fs.stdout }

// ParseNoArgs is Parse for a command that takes no arguments: one is a usage error naming the
// command ("token takes no arguments").
func (fs *FlagSet) ParseNoArgs(args []string) (unused []string, err error) {
	if unused, err = fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, Usagef("%s takes no arguments, got %q", fs.Name(), fs.Args())
	}
	return unused, nil
}
