package ecs

import (
	"slices"
	"testing"
)

func TestServeCommand(t *testing.T) {
	mk := ServeCommand("/bin/decagon", "tests", "--drain", "0s")
	a, b := mk("127.0.0.1:4001"), mk("127.0.0.1:4002")
	want := []string{"/bin/decagon", "serve", "--addr", "127.0.0.1:4001", "--drain", "0s", "tests"}
	if !slices.Equal(a.Args, want) {
		t.Errorf("args %q, want %q", a.Args, want)
	}
	if b.Args[3] != "127.0.0.1:4002" || a.Args[3] != "127.0.0.1:4001" {
		t.Errorf("commands share their arguments: %q, %q", a.Args, b.Args)
	}
}
