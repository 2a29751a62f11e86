// Package storetest is the conformance suite every records.Store backend passes: the same cases,
// run against each implementation, prove they behave alike. A backend's _test.go calls RunTests
// with a function opening a fresh, empty, migrated store; the crash and benchmark helpers follow
// the same pattern; the uploads suite (RunUploads) sits beside it.
//
// It may import the root package decagon, the domain packages, internal/listing and the standard
// library (testing); never net/http, internal/problem or internal/web.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
)

// Open returns a new, empty, migrated store, closed by t.Cleanup.
type Open func(t *testing.T) records.Store

// base is a fixed instant with microseconds, so times must round-trip to the microsecond.
var base = time.Date(2031, 3, 4, 5, 6, 7, 123456000, time.UTC)

// RunTests runs the conformance suite against the stores open returns; each case opens its own
// store and runs in parallel with the others.
func RunTests(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, records.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Get", testGet},
		{"Delete", testDelete},
		{"DuplicateID", testDuplicateID},
		{"InvalidInput", testInvalidInput},
		{"ListPages", testListPages},
		{"ListOwners", testListOwners},
		{"ListWhileInserting", testListWhileInserting},
		{"ListPositions", testListPositions},
		{"IdempotentReplay", testIdempotentReplay},
		{"IdempotentConflict", testIdempotentConflict},
		{"IdempotentOtherData", testIdempotentOtherData},
		{"IdempotencyKeyExpiry", testIdempotencyKeyExpiry},
		{"PurgeIdempotencyKeys", testPurge},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ContextDeadline", testContextDeadline},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
}

// newRecord returns a record of owner created at at, with a fresh UUIDv7 id.
func newRecord(owner string, at time.Time) records.Record {
	id := uuid.Must(uuid.NewV7())
	return records.Record{
		ID: id.String(), Name: "test " + id.String()[:8], Owner: owner,
		Data: []byte(`{"n":1}`), CreatedAt: at, UpdatedAt: at,
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t testing.TB, s records.Store, r records.Record, idem *records.Idempotency) records.Record {
	t.Helper()
	got, replayed, err := s.Create(ctxT(t), r, idem)
	if err != nil {
		t.Fatalf("Create(%s): %v", r.ID, err)
	}
	if replayed {
		t.Fatalf("Create(%s): replayed, want a new record", r.ID)
	}
	return got
}

func mustGet(t testing.TB, s records.Store, id, owner string) records.Record {
	t.Helper()
	got, err := s.Get(ctxT(t), id, owner)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v", id, owner, err)
	}
	return got
}

// assertEqual requires got == want field by field, times exactly and in UTC, data byte for byte.
func assertEqual(t testing.TB, got, want records.Record) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Owner != want.Owner {
		t.Errorf("record = {%q %q %q}, want {%q %q %q}", got.ID, got.Name, got.Owner, want.ID, want.Name, want.Owner)
	}
	if !bytes.Equal(got.Data, want.Data) || (got.Data == nil) != (want.Data == nil) {
		t.Errorf("data = %q (nil %v), want %q (nil %v)", got.Data, got.Data == nil, want.Data, want.Data == nil)
	}
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"created_at", got.CreatedAt, want.CreatedAt}, {"updated_at", got.UpdatedAt, want.UpdatedAt}} {
		if !tm.got.Equal(tm.want) || tm.got.Location() != time.UTC {
			t.Errorf("%s = %s (%s), want %s in UTC", tm.name, tm.got.Format(time.RFC3339Nano), tm.got.Location(), tm.want.Format(time.RFC3339Nano))
		}
	}
}

func assertNotFound(t testing.TB, err error, what string) {
	t.Helper()
	if !errors.Is(err, decagon.ErrNotFound) {
		t.Errorf("%s: err = %v, want ErrNotFound", what, err)
	}
}

func testRoundTrip(t *testing.T, s records.Store) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	for _, c := range []struct {
		name     string
		data     string
		wantData string // "" means nil
	}{
		{"nil data", "", ""},
		{"JSON null", "null", ""},
		{"empty object", "{}", "{}"},
		{"nested unicode", `{"a":{"b":[1,2.5,{"c":"żółw 🐢 \u00e9 日本"}]},"z":null,"t":true}`, ""},
		{"whitespace and key order kept", "{ \"z\" : 1,\n \"a\" : [ ] }", ""},
		{"escaped NUL", `{"s":"a\u0000b"}`, ""},
		{"lone surrogate", `{"s":"\ud800"}`, ""},
		{"huge number", `{"n":1e400,"m":-0.000000000000000000001}`, ""},
		{"not an object", `[1,"two"]`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRecord("alice", base.Add(37*time.Nanosecond).In(zone))
			r.UpdatedAt = base.Add(time.Hour + 999*time.Nanosecond)
			r.Name = "naïve ✓ " + c.name
			r.Data = nil
			if c.data != "" {
				r.Data = []byte(c.data)
			}
			want := r
			want.CreatedAt, want.UpdatedAt = base.UTC(), base.Add(time.Hour).UTC()
			want.Data = nil
			switch {
			case c.wantData != "":
				want.Data = []byte(c.wantData)
			case c.data != "" && c.data != "null":
				want.Data = []byte(c.data)
			}
			stored := mustCreate(t, s, r, nil)
			assertEqual(t, stored, want)
			assertEqual(t, mustGet(t, s, r.ID, "alice"), want)
		})
	}
	t.Run("zero times default to now", func(t *testing.T) {
		r := newRecord("alice", time.Time{})
		r.UpdatedAt = time.Time{}
		before := time.Now().Add(-time.Second)
		stored := mustCreate(t, s, r, nil)
		if stored.CreatedAt.Before(before) || stored.UpdatedAt != stored.CreatedAt {
			t.Errorf("created_at %s, updated_at %s: want now, equal", stored.CreatedAt, stored.UpdatedAt)
		}
		assertEqual(t, mustGet(t, s, r.ID, ""), stored)
	})
}

func testGet(t *testing.T, s records.Store) {
	r := mustCreate(t, s, newRecord("alice", base), nil)
	assertEqual(t, mustGet(t, s, r.ID, "alice"), r)
	assertEqual(t, mustGet(t, s, r.ID, ""), r)
	assertEqual(t, mustGet(t, s, strings.ToUpper(r.ID), "alice"), r)
	for _, c := range []struct{ name, id, owner string }{
		{"other owner", r.ID, "bob"},
		{"owner differing in case", r.ID, "Alice"},
		{"unknown id", uuid.NewString(), ""},
		{"empty id", "", ""},
		{"not a uuid", "not-a-uuid", ""},
		{"injection", "' OR 1=1 --", ""},
		{"uuid with junk", r.ID + "0", ""},
		{"NUL", "\x00", ""},
		{"NUL in owner", r.ID, "alice\x00"},
		{"invalid UTF-8 owner", r.ID, "\xff"},
	} {
		_, err := s.Get(ctxT(t), c.id, c.owner)
		assertNotFound(t, err, c.name)
	}
}

func testDelete(t *testing.T, s records.Store) {
	r := mustCreate(t, s, newRecord("alice", base), nil)
	other := mustCreate(t, s, newRecord("bob", base), nil)
	ctx := ctxT(t)

	assertNotFound(t, s.Delete(ctx, r.ID, "bob"), "delete by another owner")
	assertEqual(t, mustGet(t, s, r.ID, "alice"), r)
	assertNotFound(t, s.Delete(ctx, "not-a-uuid", ""), "delete of a non-UUID")
	assertNotFound(t, s.Delete(ctx, r.ID, "alice\x00"), "delete with a NUL in the owner")

	if err := s.Delete(ctx, r.ID, "alice"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx, r.ID, "")
	assertNotFound(t, err, "get after delete")
	assertNotFound(t, s.Delete(ctx, r.ID, "alice"), "second delete")

	if err := s.Delete(ctx, strings.ToUpper(other.ID), ""); err != nil {
		t.Fatalf("admin Delete: %v", err)
	}
	_, err = s.Get(ctx, other.ID, "")
	assertNotFound(t, err, "get after admin delete")
}

func testDuplicateID(t *testing.T, s records.Store) {
	r := mustCreate(t, s, newRecord("alice", base), nil)
	dup := r
	dup.Name, dup.Owner = "other", "bob"
	if _, _, err := s.Create(ctxT(t), dup, nil); !errors.Is(err, decagon.ErrConflict) {
		t.Errorf("Create with an existing id: err = %v, want ErrConflict", err)
	}
	if _, _, err := s.Create(ctxT(t), dup, &records.Idempotency{Key: "k", Hash: "h"}); !errors.Is(err, decagon.ErrConflict) {
		t.Errorf("idempotent Create with an existing id: err = %v, want ErrConflict", err)
	}
	assertEqual(t, mustGet(t, s, r.ID, ""), r)
	// The failed create must not have left its key behind.
	fresh := newRecord("bob", base)
	if _, replayed, err := s.Create(ctxT(t), fresh, &records.Idempotency{Key: "k", Hash: "h"}); err != nil || replayed {
		t.Errorf("Create with the key of a failed create: replayed %v, err %v; want a new record", replayed, err)
	}
}

func testInvalidInput(t *testing.T, s records.Store) {
	for _, c := range []struct {
		name   string
		change func(*records.Record)
		idem   *records.Idempotency
	}{
		{"NUL in name", func(r *records.Record) { r.Name = "a\x00b" }, nil},
		{"invalid UTF-8 in name", func(r *records.Record) { r.Name = "a\xffb" }, nil},
		{"NUL in owner", func(r *records.Record) { r.Owner = "alice\x00" }, nil},
		{"invalid JSON data", func(r *records.Record) { r.Data = []byte(`{"a":`) }, nil},
		{"invalid UTF-8 in a data value", func(r *records.Record) { r.Data = []byte("{\"k\":\"a\xff\xfeb\"}") }, nil},
		{"invalid UTF-8 in a data key", func(r *records.Record) { r.Data = []byte("{\"\xff\":1}") }, nil},
		{"year 10000", func(r *records.Record) { r.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, nil},
		{"negative year", func(r *records.Record) { r.UpdatedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }, nil},
		{"invalid UTF-8 in key", nil, &records.Idempotency{Key: "k\xc3", Hash: "h"}},
		{"NUL in key", nil, &records.Idempotency{Key: "k\x00", Hash: "h"}},
		{"empty key", nil, &records.Idempotency{Key: "", Hash: "h"}},
	} {
		r := newRecord("alice", base)
		if c.change != nil {
			c.change(&r)
		}
		_, _, err := s.Create(ctxT(t), r, c.idem)
		if decagon.ErrorCode(err) != decagon.EUnprocessable {
			t.Errorf("%s: err = %v, want decagon.EUnprocessable", c.name, err)
		}
	}
	if _, _, err := s.Create(ctxT(t), records.Record{ID: "nope", Owner: "alice"}, nil); err == nil {
		t.Error("Create with a non-UUID id succeeded")
	}
	items, _, err := s.List(ctxT(t), listing.Request{Limit: 100})
	if err != nil || len(items) != 0 {
		t.Errorf("after invalid creates: List = %d items, %v; want none", len(items), err)
	}
}
