package uploads_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/store/sqlite"
	"github.com/decagon/decagon/internal/uploads"
)

// objects records deletes; failing makes the next n deletes fail, as an object store that is
// down does.
type objects struct {
	mu      sync.Mutex
	deleted []string
	failing int
}

func (o *objects) Delete(_ context.Context, key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failing > 0 {
		o.failing--
		return errors.New("object store down")
	}
	o.deleted = append(o.deleted, key)
	return nil
}

func (o *objects) count() int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.deleted) }

func abandoned(t *testing.T, n int, expiry time.Time) uploads.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	s := db.Uploads()
	for range n {
		u := uploads.Upload{ID: uuid.NewString(), Owner: "alice", Filename: "f", ContentType: "a/b",
			Status: uploads.StatusPending, CreatedAt: expiry.Add(-15 * time.Minute), ExpiresAt: expiry}
		if err := s.Create(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestReaperPass: a pass waits for the grace after the expiry, removes at most Batch uploads,
// and an object it cannot delete leaves its upload claimed for the next pass (never a row
// removed before its object).
func TestReaperPass(t *testing.T) {
	expiry := time.Date(2031, 1, 1, 12, 0, 0, 0, time.UTC)
	s := abandoned(t, 5, expiry)
	objs := &objects{}
	now := expiry.Add(uploads.DefaultReapGrace)
	r := &uploads.Reaper{Store: s, Objects: objs, Batch: 2, Now: func() time.Time { return now }}
	if st, err := r.Pass(t.Context()); err != nil || st.Claimed != 0 {
		t.Fatalf("pass at the end of the grace: %+v, %v; want nothing", st, err)
	}
	now = now.Add(time.Microsecond)
	objs.failing = 1
	st, err := r.Pass(t.Context())
	if err == nil || st.Claimed != 2 || st.Removed != 1 {
		t.Fatalf("pass with one failing delete: %+v, %v; want 2 claimed, 1 removed and the error", st, err)
	}
	total := st.Removed
	for range 3 {
		st, err := r.Pass(t.Context())
		if err != nil || st.Claimed > 2 {
			t.Fatalf("pass: %+v, %v", st, err)
		}
		total += st.Removed
	}
	if total != 5 || objs.count() != 5 {
		t.Fatalf("removed %d uploads and %d objects, want 5 and 5", total, objs.count())
	}
	if left, err := s.ClaimExpired(t.Context(), now.Add(time.Hour), 10); err != nil || len(left) != 0 {
		t.Fatalf("rows left: %d, %v", len(left), err)
	}
}

// TestReaperRunDrains: a pass that fills its batch is followed by another at once, so Run works
// off a backlog without waiting for its interval; it returns when its context ends.
func TestReaperRunDrains(t *testing.T) {
	expiry := time.Date(2031, 1, 1, 12, 0, 0, 0, time.UTC)
	s := abandoned(t, 7, expiry)
	objs := &objects{}
	r := &uploads.Reaper{Store: s, Objects: objs, Batch: 3, Now: func() time.Time { return expiry.Add(2 * uploads.DefaultReapGrace) }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx, time.Hour); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for objs.count() < 7 {
		if time.Now().After(deadline) {
			t.Fatalf("Run removed %d of 7 within its first round", objs.count())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
