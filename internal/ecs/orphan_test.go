package ecs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/balancer"
)

// runTestStack is a stack of one service with one task; it prints the task's pid and waits to
// be killed.
func runTestStack() int {
	g, err := balancer.New(balancer.Config{Name: "tests", HealthCheck: fastCheck(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 1
	}
	s, err := New(Config{Name: "tests", Command: taskCommand(), Targets: GroupTargets(g), DesiredCount: 1,
		Output: io.Discard, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 1
	}
	go func() { _ = s.Run(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := s.WaitFor(ctx, func(st Status) bool { return st.Running == 1 })
	if err != nil {
		return 1
	}
	fmt.Println(st.Tasks[0].PID)
	select {}
}

// alive reports whether pid runs (a zombie, waiting for a parent to reap it, does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && !bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z"))
}

// TestNoTaskOutlivesTheStack: when the stack is killed outright (no chance to stop its
// tasks), the kernel kills its tasks too.
func TestNoTaskOutlivesTheStack(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), testStackEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("the stack printed no task pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || !alive(pid) {
		_ = cmd.Process.Kill()
		t.Fatalf("task pid %q not running (%v)", line, err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("task %d still runs 5 s after its stack was killed", pid)
		}
	}
}
