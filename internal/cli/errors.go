package cli

import (
	"errors"
	"flag"
	"fmt"
)

// UsageError is a mistake on the command line: exit status 2.
type UsageError struct{ Msg string }

func (u UsageError) Error() string { return u.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error { return UsageError{fmt.Sprintf(format, args...)} }

// flagError is an error of the flag package's parsing (an unknown flag, a bad value, --help).
type flagError struct{ error }

func (f flagError) Unwrap() error { return f.error }

// ExitCode is the process's exit status for err: 0 for nil or a help request, 2 for a usage
// error, 1 otherwise.
func ExitCode(err error) int {
	var u UsageError
	var f flagError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u), errors.As(err, &f):
		return 2
	}
	return 1
}
