package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/cli"
)

// runMainEnv marks a process that `decagon dev` started from this test binary as a task: it
// runs the command its arguments name (`serve ...`) instead of the tests. The name has no
// DECAGON_ prefix, so that the stack passes it on to its tasks.
const runMainEnv = "DECAGONTEST_RUN_MAIN"

// TestMain lets the dev stack of these tests run its tasks from the test binary, which is what
// os.Executable names in a test: with the variable set, the binary is decagon itself.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" && len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-test.") {
		os.Exit(cli.ExitCode(realMain(context.Background())))
	}
	os.Setenv(runMainEnv, "1")
	os.Exit(m.Run())
}
