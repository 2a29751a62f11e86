package storetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/records"
)

// CrashChildEnv, set in a test binary's environment, makes CrashChild take over the process.
const CrashChildEnv = "DECAGON_STORETEST_CRASH_CHILD"

const (
	crashOwner   = "crash"
	crashWriters = 4
	crashAcks    = 200 // acknowledgements the parent waits for before it kills the child
)

// CrashChild is the child half of RunCrashTest; call it first in TestMain. In a process started
// by RunCrashTest it opens a store with open and creates records from a few goroutines, printing
// each id on its own line once Create has returned, until it is killed; it never returns then.
// In any other process it returns at once.
func CrashChild(open func(ctx context.Context) (records.Store, error)) {
	if os.Getenv(CrashChildEnv) == "" {
		return
	}
	os.Exit(crashChild(open))
}

func crashChild(open func(ctx context.Context) (records.Store, error)) int {
	// A child whose parent died must not write forever.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := open(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child: open:", err)
		return 2
	}
	var mu sync.Mutex
	errc := make(chan error, crashWriters)
	for w := range crashWriters {
		go func() {
			for i := 0; ctx.Err() == nil; i++ {
				r := newRecord(crashOwner, time.Now())
				var idem *records.Idempotency
				if (w+i)%2 == 0 {
					idem = key(r.ID, "h")
				}
				if _, _, err := s.Create(ctx, r, idem); err != nil {
					errc <- err
					return
				}
				mu.Lock()
				_, err := fmt.Fprintln(os.Stdout, r.ID) // unbuffered: one write per acknowledgement
				mu.Unlock()
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	case <-ctx.Done():
		return 3
	}
}

// RunCrashTest starts this test binary again, with env added to its environment, as a child
// that creates records in a loop (see CrashChild); kills it with SIGKILL once it has acknowledged
// a couple of hundred; then checks, with a store from open on the same database, that every
// record the child acknowledged is there.
func RunCrashTest(t *testing.T, env []string, open Open) {
	var ids []string
	killCrashChild(t, append([]string{CrashChildEnv + "=1"}, env...), func(line string) bool {
		ids = append(ids, line)
		return true
	})
	s := open(t)
	missing := 0
	for _, id := range ids {
		if _, err := s.Get(ctxT(t), id, crashOwner); err != nil {
			missing++
			t.Errorf("acknowledged record %s: %v", id, err)
		}
	}
	t.Logf("child killed after %d acknowledgements; %d missing", len(ids), missing)
}

// killCrashChild starts this test binary again as a crash child (childEnv selects which), hands
// each line it prints to ack (which says whether the line was an acknowledgement), kills the
// child with SIGKILL once crashAcks lines were acknowledgements, and returns once every line it
// wrote has been read. A line cut short by the kill was never fully acknowledged, so it is not
// handed on.
func killCrashChild(t *testing.T, childEnv []string, ack func(line string) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks, killed := 0, false
	br := bufio.NewReader(stdout)
	for {
		line, err := br.ReadString('\n')
		if err == nil && ack(strings.TrimSuffix(line, "\n")) {
			acks++
		}
		if !killed && acks >= crashAcks {
			if kerr := cmd.Process.Kill(); kerr != nil {
				t.Fatalf("kill child: %v", kerr)
			}
			killed = true
		}
		if err != nil {
			break // EOF: the child is gone; every line it wrote has been read
		}
	}
	werr := cmd.Wait()
	if !killed {
		t.Fatalf("child ended by itself after %d acknowledgements (%v):\n%s", acks, werr, stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != -1 {
		t.Fatalf("child exited with %d before the kill:\n%s", code, stderr.String())
	}
}
