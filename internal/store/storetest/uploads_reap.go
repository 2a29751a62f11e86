package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/uploads"
)

// ids returns the upload ids of items, sorted.
func ids(items []uploads.Upload) []string {
	out := make([]string, len(items))
	for i, u := range items {
		out[i] = u.ID
	}
	slices.Sort(out)
	return out
}

// testUploadDeleteTombstone (issue 11 item 3): deleting a presigned upload, pending or
// completed, leaves a tombstone no client method sees but ClaimExpired returns once its URL has
// expired, and Purge removes; deleting a direct upload removes its row at once.
func testUploadDeleteTombstone(t *testing.T, s uploads.Store) {
	ctx := ctxT(t)
	pending := mustCreateUpload(t, s, newUpload("alice", base))
	done := mustCreateUpload(t, s, newUpload("alice", base))
	if _, err := s.Complete(ctx, done.ID, "alice", "text/plain", 1, hexSHA("a")); err != nil {
		t.Fatal(err)
	}
	direct := mustCreateUpload(t, s, availableUpload("alice", base))
	for _, u := range []uploads.Upload{pending, done, direct} {
		if err := s.Delete(ctx, u.ID, "alice"); err != nil {
			t.Fatalf("Delete(%s): %v", u.ID, err)
		}
		_, err := s.Get(ctx, u.ID, "")
		assertNotFound(t, err, "Get of a deleted upload")
		_, err = s.Complete(ctx, u.ID, "", "text/plain", 1, hexSHA("a"))
		assertNotFound(t, err, "Complete of a deleted upload")
		assertNotFound(t, s.Delete(ctx, u.ID, ""), "second Delete")
	}
	items, _, err := s.List(ctx, listing.Request{Limit: 100})
	if err != nil || len(items) != 0 {
		t.Fatalf("List after deleting everything = %d items, %v; want none", len(items), err)
	}
	// Not before the URL has expired.
	got, err := s.ClaimExpired(ctx, pending.ExpiresAt, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("ClaimExpired at the expiry = %v, %v; want nothing", ids(got), err)
	}
	got, err = s.ClaimExpired(ctx, pending.ExpiresAt.Add(time.Microsecond), 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := ids([]uploads.Upload{pending, done}); !slices.Equal(ids(got), want) {
		t.Fatalf("ClaimExpired after the expiry = %v, want the two presigned tombstones %v", ids(got), want)
	}
	for _, u := range got {
		if err := s.Purge(ctx, u.ID); err != nil {
			t.Fatalf("Purge(%s): %v", u.ID, err)
		}
		assertNotFound(t, s.Purge(ctx, u.ID), "second Purge")
	}
	assertNotFound(t, s.Purge(ctx, direct.ID), "Purge of a removed direct upload")
	if got, err := s.ClaimExpired(ctx, far, 10); err != nil || len(got) != 0 {
		t.Fatalf("ClaimExpired after Purge = %v, %v; want nothing", ids(got), err)
	}
}

// far is a time after every expiry the suite sets.
var far = base.Add(24 * time.Hour)

// testUploadClaimExpired: ClaimExpired takes the abandoned (pending, expired) uploads oldest
// expiry first, at most limit per call, never a completed or a direct one nor one whose URL is
// still valid; a claimed upload is invisible at once and returned again until purged.
func testUploadClaimExpired(t *testing.T, s uploads.Store) {
	ctx := ctxT(t)
	var abandoned []uploads.Upload
	for i := range 5 {
		u := newUpload("alice", base)
		u.ExpiresAt = base.Add(time.Duration(5-i) * time.Minute) // the last created expires first
		abandoned = append(abandoned, mustCreateUpload(t, s, u))
	}
	fresh := newUpload("bob", base)
	fresh.ExpiresAt = far.Add(time.Hour)
	fresh = mustCreateUpload(t, s, fresh)
	done := mustCreateUpload(t, s, newUpload("bob", base))
	done, err := s.Complete(ctx, done.ID, "bob", "text/plain", 1, hexSHA("a"))
	if err != nil {
		t.Fatal(err)
	}
	direct := mustCreateUpload(t, s, availableUpload("bob", base))

	for _, limit := range []int{0, -1, 1001} {
		if _, err := s.ClaimExpired(ctx, far, limit); err == nil {
			t.Errorf("ClaimExpired with limit %d: no error", limit)
		}
	}
	first, err := s.ClaimExpired(ctx, far, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := ids([]uploads.Upload{abandoned[4], abandoned[3]}); !slices.Equal(ids(first), want) {
		t.Fatalf("first batch %v, want the two earliest expiries %v", ids(first), want)
	}
	for _, u := range first {
		if u.Status != uploads.StatusPending || u.Owner != "alice" {
			t.Errorf("claimed %+v, want alice's pending upload", u)
		}
		_, err := s.Get(ctx, u.ID, "alice")
		assertNotFound(t, err, "Get of a claimed upload")
	}
	// Claimed but not purged (the reaper died): returned again, with the rest.
	all, err := s.ClaimExpired(ctx, far, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := ids(abandoned); !slices.Equal(ids(all), want) {
		t.Fatalf("second call %v, want every abandoned upload %v", ids(all), want)
	}
	for _, u := range all {
		if err := s.Purge(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.ClaimExpired(ctx, far, 100); err != nil || len(got) != 0 {
		t.Fatalf("after purging: %v, %v; want nothing", ids(got), err)
	}
	assertUpload(t, mustGetUpload(t, s, fresh.ID, "bob"), fresh)
	assertUpload(t, mustGetUpload(t, s, done.ID, "bob"), done)
	assertUpload(t, mustGetUpload(t, s, direct.ID, "bob"), direct)
	assertNotFound(t, s.Purge(ctx, fresh.ID), "Purge of a live upload")
	assertUpload(t, mustGetUpload(t, s, fresh.ID, "bob"), fresh)
}

// testUploadClaimRacesComplete: a Complete racing ClaimExpired on the same abandoned upload
// either wins (the upload is available and never claimed) or loses with ErrNotFound (claimed);
// never both.
func testUploadClaimRacesComplete(t *testing.T, s uploads.Store) {
	for range 8 {
		u := mustCreateUpload(t, s, newUpload("alice", base))
		var claimed []uploads.Upload
		var claimErr, completeErr error
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; claimed, claimErr = s.ClaimExpired(ctxT(t), far, 10) })
		wg.Go(func() { <-start; _, completeErr = s.Complete(ctxT(t), u.ID, "alice", "text/plain", 1, hexSHA("a")) })
		close(start)
		wg.Wait()
		if claimErr != nil {
			t.Fatal(claimErr)
		}
		won := slices.ContainsFunc(claimed, func(c uploads.Upload) bool { return c.ID == u.ID })
		switch {
		case won && !errors.Is(completeErr, decagon.ErrNotFound):
			t.Fatalf("upload claimed and Complete = %v, want ErrNotFound", completeErr)
		case !won && completeErr != nil:
			t.Fatalf("upload not claimed and Complete = %v", completeErr)
		case !won:
			if got := mustGetUpload(t, s, u.ID, "alice"); got.Status != uploads.StatusAvailable {
				t.Fatalf("completed upload is %s", got.Status)
			}
		}
		for _, c := range claimed {
			if err := s.Purge(ctxT(t), c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}
