package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
)

func key(k, hash string) *records.Idempotency { return &records.Idempotency{Key: k, Hash: hash} }

// isKeyReused reports whether err is the refusal of a key reused with another body: 422
// (decagon.EUnprocessable), as the IETF idempotency-key draft says.
func isKeyReused(err error) bool { return decagon.ErrorCode(err) == decagon.EUnprocessable }

// count returns how many records owner has.
func count(t *testing.T, s records.Store, owner string) int {
	t.Helper()
	return len(walk(t, s, owner, 100, nil))
}

// createAt creates a record of owner at at with idem, returning what Create returns.
func createAt(t *testing.T, s records.Store, owner string, at time.Time, idem *records.Idempotency) (records.Record, bool, error) {
	t.Helper()
	return s.Create(ctxT(t), newRecord(owner, at), idem)
}

func testIdempotentReplay(t *testing.T, s records.Store) {
	first := newRecord("alice", base)
	first.Data = []byte(`{"deep":{"x":"ü"}}`)
	stored := mustCreate(t, s, first, key("k1", "h1"))

	// A retry carries a new id and time, as a handler makes them per request.
	got, replayed, err := createAt(t, s, "alice", base.Add(time.Hour), key("k1", "h1"))
	if err != nil || !replayed {
		t.Fatalf("retry: replayed %v, err %v; want the first record replayed", replayed, err)
	}
	assertEqual(t, got, stored)
	if n := count(t, s, "alice"); n != 1 {
		t.Errorf("alice has %d records after a replay, want 1", n)
	}

	// Keys belong to their owner: bob's k1 is another key.
	bobs, replayed, err := createAt(t, s, "bob", base.Add(time.Hour), key("k1", "h1"))
	if err != nil || replayed || bobs.ID == stored.ID {
		t.Errorf("bob's k1: replayed %v, err %v, id %s; want a new record", replayed, err, bobs.ID)
	}

	// After the record is deleted a retry still gets the first response, and the record stays
	// deleted (Stripe's semantics: the key replays the response, it does not redo the create).
	if err := s.Delete(ctxT(t), stored.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got, replayed, err = createAt(t, s, "alice", base.Add(2*time.Hour), key("k1", "h1"))
	if err != nil || !replayed {
		t.Fatalf("retry after delete: replayed %v, err %v; want a replay", replayed, err)
	}
	assertEqual(t, got, stored)
	_, err = s.Get(ctxT(t), stored.ID, "")
	assertNotFound(t, err, "get after delete and replay")
	if n := count(t, s, "alice"); n != 0 {
		t.Errorf("alice has %d records, want 0", n)
	}
}

func testIdempotentConflict(t *testing.T, s records.Store) {
	stored := mustCreate(t, s, newRecord("alice", base), key("k", "h1"))
	_, _, err := createAt(t, s, "alice", base.Add(time.Minute), key("k", "h2"))
	if !isKeyReused(err) {
		t.Fatalf("same key, other hash: err = %v, want decagon.EUnprocessable", err)
	}
	if n := count(t, s, "alice"); n != 1 {
		t.Errorf("alice has %d records after a conflict, want 1", n)
	}
	// The conflict changed nothing: the first request still replays.
	got, replayed, err := createAt(t, s, "alice", base.Add(2*time.Minute), key("k", "h1"))
	if err != nil || !replayed {
		t.Fatalf("retry after conflict: replayed %v, err %v", replayed, err)
	}
	assertEqual(t, got, stored)
}

// testIdempotentOtherData: a retry with the same key and name but other data is not a replay
// (issue 16 item 3): the hash the service ties a key to covers the data, and the store refuses
// the second body rather than hand back the first record.
func testIdempotentOtherData(t *testing.T, s records.Store) {
	first := newRecord("alice", base)
	first.Name, first.Data = "same name", json.RawMessage(`{"amount":1}`)
	mustCreate(t, s, first, key("pay", records.RequestHash(first.Name, first.Data)))
	second := newRecord("alice", base.Add(time.Minute))
	second.Name, second.Data = first.Name, json.RawMessage(`{"amount":100}`)
	_, replayed, err := s.Create(ctxT(t), second, key("pay", records.RequestHash(second.Name, second.Data)))
	if !isKeyReused(err) || replayed {
		t.Fatalf("same key and name, other data: replayed %v, err = %v; want decagon.EUnprocessable", replayed, err)
	}
	if n := count(t, s, "alice"); n != 1 {
		t.Errorf("alice has %d records, want 1", n)
	}
}

func testIdempotencyKeyExpiry(t *testing.T, s records.Store) {
	mustCreate(t, s, newRecord("alice", base), key("k", "h1"))

	// One microsecond short of 24 h the key holds.
	_, _, err := createAt(t, s, "alice", base.Add(24*time.Hour-time.Microsecond), key("k", "h2"))
	if !isKeyReused(err) {
		t.Fatalf("other hash at 24h-1µs: err = %v, want decagon.EUnprocessable", err)
	}
	// At 24 h it has expired: the key is taken afresh, by any body.
	second, replayed, err := createAt(t, s, "alice", base.Add(24*time.Hour), key("k", "h2"))
	if err != nil || replayed {
		t.Fatalf("other hash at 24h: replayed %v, err %v; want a new record", replayed, err)
	}
	got, replayed, err := createAt(t, s, "alice", base.Add(25*time.Hour), key("k", "h2"))
	if err != nil || !replayed {
		t.Fatalf("retry of the new request: replayed %v, err %v", replayed, err)
	}
	assertEqual(t, got, second)
	if _, _, err := createAt(t, s, "alice", base.Add(26*time.Hour), key("k", "h1")); !isKeyReused(err) {
		t.Errorf("the first body again, while the second key lives: err = %v, want decagon.EUnprocessable", err)
	}
	if n := count(t, s, "alice"); n != 2 {
		t.Errorf("alice has %d records, want 2", n)
	}
}

func testPurge(t *testing.T, s records.Store) {
	mustCreate(t, s, newRecord("alice", base), key("old", "h"))
	mustCreate(t, s, newRecord("alice", base.Add(2*time.Hour)), key("new", "h"))
	mustCreate(t, s, newRecord("alice", base.Add(3*time.Hour)), nil)

	n, err := s.PurgeIdempotencyKeys(ctxT(t), base.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if n, err := s.PurgeIdempotencyKeys(ctxT(t), base.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want 0", n, err)
	}
	if n, err := s.PurgeIdempotencyKeys(ctxT(t), base.Add(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("Purge before the second key's instant = %d, %v; want 0 (strictly before)", n, err)
	}
	// The purged key is free; the other still binds.
	if _, replayed, err := createAt(t, s, "alice", base.Add(4*time.Hour), key("old", "other")); err != nil || replayed {
		t.Errorf("purged key: replayed %v, err %v; want a new record", replayed, err)
	}
	if _, _, err := createAt(t, s, "alice", base.Add(4*time.Hour), key("new", "other")); !isKeyReused(err) {
		t.Errorf("kept key: err = %v, want decagon.EUnprocessable", err)
	}
	// Purging keys never deletes records.
	if n := count(t, s, "alice"); n != 4 {
		t.Errorf("alice has %d records, want 4", n)
	}
}

func testConcurrentSameKey(t *testing.T, s records.Store) {
	const n = 24
	type result struct {
		hash     string
		r        records.Record
		replayed bool
		err      error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		// Two bodies race for one key: one wins; its retries replay, the other body conflicts.
		results[i].hash = []string{"h1", "h2"}[i%2]
		r := newRecord("alice", base.Add(time.Duration(i)*time.Millisecond))
		wg.Go(func() {
			<-start
			results[i].r, results[i].replayed, results[i].err = s.Create(ctxT(t), r, key("race", results[i].hash))
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, res := range results {
		if res.err == nil && !res.replayed {
			if winner >= 0 {
				t.Fatalf("two creates won the key: %s and %s", results[winner].r.ID, res.r.ID)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no create won the key; the first got replayed %v, err %v", results[0].replayed, results[0].err)
	}
	for i, res := range results {
		switch {
		case i == winner:
		case res.hash == results[winner].hash:
			if res.err != nil || !res.replayed {
				t.Errorf("create %d (winning body): replayed %v, err %v; want a replay", i, res.replayed, res.err)
				continue
			}
			assertEqual(t, res.r, results[winner].r)
		default:
			if !isKeyReused(res.err) {
				t.Errorf("create %d (other body): err = %v, want decagon.EUnprocessable", i, res.err)
			}
		}
	}
	if got := count(t, s, "alice"); got != 1 {
		t.Errorf("alice has %d records, want exactly 1", got)
	}
}

func testConcurrentCreates(t *testing.T, s records.Store) {
	const n = 24
	errs := make(chan error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		r := newRecord("alice", base.Add(time.Duration(i)*time.Second))
		var idem *records.Idempotency
		if i%2 == 0 {
			idem = key(r.ID, "h") // distinct keys must not serialize into failures
		}
		wg.Go(func() {
			<-start
			_, _, err := s.Create(ctxT(t), r, idem)
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Create: %v", err)
		}
	}
	if got := count(t, s, "alice"); got != n {
		t.Errorf("alice has %d records, want %d", got, n)
	}
}

func testContextDeadline(t *testing.T, s records.Store) {
	r := mustCreate(t, s, newRecord("alice", base), nil)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"Create", func() error { _, _, err := s.Create(ctx, newRecord("alice", base), nil); return err }},
		{"Create idempotent", func() error {
			_, _, err := s.Create(ctx, newRecord("alice", base), key("k", "h"))
			return err
		}},
		{"Get", func() error { _, err := s.Get(ctx, r.ID, "alice"); return err }},
		{"List", func() error { _, _, err := s.List(ctx, listing.Request{Owner: "alice", Limit: 10}); return err }},
		{"Delete", func() error { return s.Delete(ctx, r.ID, "alice") }},
		{"Purge", func() error { _, err := s.PurgeIdempotencyKeys(ctx, base.Add(time.Hour)); return err }},
	} {
		if err := c.call(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with an expired context: err = %v, want context.DeadlineExceeded", c.name, err)
		}
	}
	// Nothing happened.
	assertEqual(t, mustGet(t, s, r.ID, "alice"), r)
	if n := count(t, s, "alice"); n != 1 {
		t.Errorf("alice has %d records, want 1", n)
	}
}
