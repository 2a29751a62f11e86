package ecs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// TaskState is a task's lifecycle state, as ECS names it.
type TaskState string

// Task states.
const (
	// TaskPending: the process runs but does not listen yet, or is not registered yet.
	TaskPending TaskState = "PENDING"
	// TaskRunning: listening and registered in the target group.
	TaskRunning TaskState = "RUNNING"
	// TaskStopping: deregistered and draining, or signalled and exiting.
	TaskStopping TaskState = "STOPPING"
)

// task is one child process of a service. The fields after exited are guarded by the
// service's mutex.
type task struct {
	id        string
	revision  int
	addr      string
	pid       int
	startedAt time.Time
	cgroup    cgroupDirs // nil without limits

	exited  chan struct{} // closed when the process has exited; exitErr is set before
	exitErr error

	state       TaskState
	registered  bool
	stopReason  string
	prev        usage // the last /proc reading
	scalePrev   usage // the reading at the last scaling datapoint
	cpu         float64
	rss         uint64
	measured    bool // cpu covers a whole sampling interval
	healthySeen bool
}

// hasExited reports whether the process has exited.
func (t *task) hasExited() bool {
	select {
	case <-t.exited:
		return true
	default:
		return false
	}
}

// recentPorts is how many of the ports FreeAddr handed out it remembers.
const recentPorts = 512

// ports remembers the ports FreeAddr handed out lately. The kernel may give a port just
// closed to the next bind(0): two tasks started together would get the same port, and one of
// them would exit (or, worse, the other's listener would pass for it).
var ports struct {
	sync.Mutex
	recent map[int]bool
	order  []int
}

// FreeAddr returns a loopback address with a port free at the time of the call and not handed
// out by an earlier call of this process lately. The caller's process binds it a moment later;
// should another process take it meanwhile, the task exits and is replaced.
func FreeAddr() (string, error) {
	ports.Lock()
	defer ports.Unlock()
	if ports.recent == nil {
		ports.recent = map[int]bool{}
	}
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := ln.Addr().(*net.TCPAddr)
		if err := ln.Close(); err != nil {
			return "", err
		}
		if ports.recent[addr.Port] {
			continue
		}
		ports.recent[addr.Port] = true
		ports.order = append(ports.order, addr.Port)
		if len(ports.order) > recentPorts {
			delete(ports.recent, ports.order[0])
			ports.order = ports.order[1:]
		}
		return addr.String(), nil
	}
	return "", errors.New("no loopback port free that was not handed out lately")
}

// spawn starts the task's process. The process is in a process group of its own (a ^C at the
// terminal reaches the stack, which stops tasks in order) and gets SIGKILL if the stack dies,
// so no task outlives it. Pdeathsig fires when the thread that forked exits, so that thread is
// locked to a goroutine that lives until the process has exited.
func (t *task) spawn(cmd *exec.Cmd, cg *cgroups, limits Limits, name string, onExit func()) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if cg != nil {
		dirs, err := cg.create(name, limits)
		if err != nil {
			return err
		}
		t.cgroup = dirs
	}
	t.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		t.exitErr = cmd.Wait()
		close(t.exited)
		onExit()
	}()
	if err := <-started; err != nil {
		_ = t.cgroup.remove()
		return fmt.Errorf("start task %s: %w", t.id, err)
	}
	t.pid = cmd.Process.Pid
	t.startedAt = time.Now()
	if t.cgroup != nil {
		// The process ran a few instructions outside its cgroup; v1 offers no way to start in
		// one (clone3's CLONE_INTO_CGROUP is v2 only) and those microseconds do not matter.
		if err := t.cgroup.add(t.pid); err != nil {
			t.signal(syscall.SIGKILL)
			<-t.exited
			_ = t.cgroup.remove()
			return fmt.Errorf("start task %s: %w", t.id, err)
		}
	}
	return nil
}

// waitListening waits until the task accepts connections on its address, the process exits,
// or ctx is done.
func (t *task) waitListening(ctx context.Context) error {
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := d.DialContext(ctx, "tcp", t.addr); err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("task %s not listening on %s: %w", t.id, t.addr, ctx.Err())
		case <-t.exited:
			return fmt.Errorf("task %s exited before listening: %v", t.id, t.exitErr)
		case <-tick.C:
		}
	}
}

// signal sends sig to the task's process group.
func (t *task) signal(sig syscall.Signal) {
	if err := syscall.Kill(-t.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = syscall.Kill(t.pid, sig)
	}
}

// terminate sends SIGTERM, then SIGKILL after timeout, and waits for the exit, as ECS stops a
// container (StopTimeout).
func (t *task) terminate(timeout time.Duration) {
	t.signal(syscall.SIGTERM)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-t.exited:
	case <-timer.C:
		t.signal(syscall.SIGKILL)
		<-t.exited
	}
}

// exitReason describes how the process ended.
func (t *task) exitReason() string {
	if t.exitErr == nil {
		return "exited with status 0"
	}
	return t.exitErr.Error()
}
