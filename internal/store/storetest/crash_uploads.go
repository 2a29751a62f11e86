package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/uploads"
)

// UploadsCrashChildEnv, set in a test binary's environment, makes UploadsCrashChild take over
// the process.
const UploadsCrashChildEnv = "DECAGON_STORETEST_UPLOADS_CRASH_CHILD"

// UploadsCrashChild is the child half of RunUploadsCrashTest; call it first in TestMain. In a
// process started by RunUploadsCrashTest it opens a store with open and, from a few
// goroutines, presigns uploads (Create, pending), then completes or deletes each, printing
// "<state> <id>" once each call has returned, until it is killed. In any other process it
// returns at once.
func UploadsCrashChild(open func(ctx context.Context) (uploads.Store, error)) {
	if os.Getenv(UploadsCrashChildEnv) == "" {
		return
	}
	os.Exit(uploadsCrashChild(open))
}

func uploadsCrashChild(open func(ctx context.Context) (uploads.Store, error)) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := open(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child: open:", err)
		return 2
	}
	var mu sync.Mutex
	ack := func(state, id string) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := fmt.Fprintln(os.Stdout, state, id) // unbuffered: one write per acknowledgement
		return err
	}
	errc := make(chan error, crashWriters)
	for w := range crashWriters {
		go func() {
			for i := 0; ctx.Err() == nil; i++ {
				u := newUpload(crashOwner, time.Now())
				err := s.Create(ctx, u)
				if err == nil {
					err = ack(uploads.StatusPending, u.ID)
				}
				if err == nil && (w+i)%2 == 0 {
					if _, err = s.Complete(ctx, u.ID, crashOwner, "text/plain", 1, hexSHA(u.ID)); err == nil {
						err = ack(uploads.StatusAvailable, u.ID)
					}
				} else if err == nil {
					if err = s.Delete(ctx, u.ID, crashOwner); err == nil {
						err = ack("deleted", u.ID)
					}
				}
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

// RunUploadsCrashTest starts this test binary again, with env added to its environment, as a
// child that presigns, completes and deletes uploads (see UploadsCrashChild); kills it with
// SIGKILL after a few hundred acknowledgements; then checks, with a store from open on the same
// database, that every acknowledged state survived: a created upload exists (or was
// tombstoned by a delete the child had not acknowledged yet), a completed one is available
// with its SHA-256, and a deleted one is invisible but still a tombstone, so that the reaper can
// remove an object its URL writes late.
func RunUploadsCrashTest(t *testing.T, env []string, open OpenUploads) {
	last := map[string]string{} // id → last acknowledged state
	acks := 0
	killCrashChild(t, append([]string{UploadsCrashChildEnv + "=1"}, env...), func(line string) bool {
		state, id, ok := strings.Cut(line, " ")
		if ok {
			last[id] = state
			acks++
		}
		return ok
	})

	s := open(t)
	tombs, err := s.ClaimExpired(ctxT(t), time.Now().Add(24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	tombstoned := func(id string) bool {
		return slices.ContainsFunc(tombs, func(u uploads.Upload) bool { return u.ID == id })
	}
	counts := map[string]int{}
	for id, state := range last {
		counts[state]++
		// ClaimExpired has just tombstoned every pending upload too: Get sees only completed ones.
		got, err := s.Get(ctxT(t), id, crashOwner)
		switch state {
		case uploads.StatusAvailable:
			if err != nil || got.Status != uploads.StatusAvailable || got.SHA256 != hexSHA(id) {
				t.Errorf("acknowledged completion of %s: %+v, %v", id, got, err)
			}
		case uploads.StatusPending, "deleted":
			completedLater := err == nil && state == uploads.StatusPending && got.Status == uploads.StatusAvailable
			if !tombstoned(id) && !completedLater {
				t.Errorf("acknowledged %s upload %s: neither a tombstone nor available (Get: %+v, %v)", state, id, got, err)
			}
			if state == "deleted" && !errors.Is(err, decagon.ErrNotFound) {
				t.Errorf("acknowledged delete of %s: Get = %+v, %v; want not found", id, got, err)
			}
		}
	}
	t.Logf("child killed after %d acknowledgements; last states %v", acks, counts)
}
