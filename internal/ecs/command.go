package ecs

import (
	"os/exec"
	"slices"
)

// ServeCommand returns a Config.Command that runs `exe serve --addr <addr> args... service`:
// the stack's own binary as one task of the service. Resolve exe once, with os.Executable, at
// start: a binary rebuilt in place (`--watch`) keeps that path and the next task runs it.
func ServeCommand(exe, service string, args ...string) func(addr string) *exec.Cmd {
	return func(addr string) *exec.Cmd {
		argv := append([]string{"serve", "--addr", addr}, args...)
		return exec.Command(exe, append(slices.Clip(argv), service)...) // flags before the name
	}
}
