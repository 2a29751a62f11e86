package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
)

// newest sorts records as List returns them: created_at, then test_id, descending.
func newest(rs []records.Record) []records.Record {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b records.Record) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return rs
}

// walk lists every page for owner with the given limit, calling between after each page, and
// returns the records in order. It fails on an empty page that claims more, or on a loop.
func walk(t *testing.T, s records.Store, owner string, limit int, between func(page int)) []records.Record {
	t.Helper()
	var all []records.Record
	p := listing.Request{Owner: owner, Limit: limit}
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("listing does not end")
		}
		items, more, err := s.List(ctxT(t), p)
		if err != nil {
			t.Fatalf("List(%+v): %v", p, err)
		}
		if len(items) > limit {
			t.Fatalf("page %d: %d items, limit %d", page, len(items), limit)
		}
		all = append(all, items...)
		if !more {
			return all
		}
		if len(items) != limit {
			t.Fatalf("page %d: %d items with more=true, want a full page of %d", page, len(items), limit)
		}
		last := items[len(items)-1]
		p.After = listing.Position{CreatedAt: last.CreatedAt, ID: last.ID}
		if between != nil {
			between(page)
		}
	}
}

func assertIDs(t *testing.T, got, want []records.Record) {
	t.Helper()
	ids := func(rs []records.Record) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	if g, w := ids(got), ids(want); !slices.Equal(g, w) {
		t.Errorf("listed %d records:\n%v\nwant %d:\n%v", len(g), g, len(w), w)
	}
}

// seed creates n records for owner: the first at base-i minutes, then ties at base+1h.
func seed(t *testing.T, s records.Store, owner string, distinct, ties int) []records.Record {
	t.Helper()
	var rs []records.Record
	for i := range distinct {
		rs = append(rs, mustCreate(t, s, newRecord(owner, base.Add(-time.Duration(i)*time.Minute)), nil))
	}
	for range ties {
		r := newRecord(owner, base.Add(time.Hour))
		r.ID = uuid.NewString() // random, so ids of one instant are not in creation order
		rs = append(rs, mustCreate(t, s, r, nil))
	}
	return rs
}

func testListPages(t *testing.T, s records.Store) {
	alice := seed(t, s, "alice", 5, 12)
	seed(t, s, "bob", 3, 3)
	want := newest(alice)
	for _, limit := range []int{1, 3, 4, 16, 17, 18, 100} {
		assertIDs(t, walk(t, s, "alice", limit, nil), want)
	}
	// Records round-trip through List as through Get.
	items, _, err := s.List(ctxT(t), listing.Request{Owner: "alice", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		assertEqual(t, items[i], want[i])
	}
	items, more, err := s.List(ctxT(t), listing.Request{Owner: "carol", Limit: 10})
	if err != nil || len(items) != 0 || more {
		t.Errorf("List of an owner without records = %d items, more %v, err %v", len(items), more, err)
	}
}

func testListOwners(t *testing.T, s records.Store) {
	alice := seed(t, s, "alice", 4, 3)
	bob := seed(t, s, "bob", 6, 2)
	assertIDs(t, walk(t, s, "alice", 2, nil), newest(alice))
	assertIDs(t, walk(t, s, "bob", 2, nil), newest(bob))
	assertIDs(t, walk(t, s, "", 3, nil), newest(append(alice, bob...)))
}

func testListWhileInserting(t *testing.T, s records.Store) {
	old := seed(t, s, "alice", 20, 4)
	var added []records.Record
	got := walk(t, s, "alice", 6, func(page int) {
		// Newer records, some at the same instant as each other, arrive between pages.
		for i := range 5 {
			at := base.Add(2*time.Hour + time.Duration(page)*time.Minute)
			if i%2 == 0 {
				at = at.Add(time.Duration(i) * time.Second)
			}
			added = append(added, mustCreate(t, s, newRecord("alice", at), nil))
		}
	})
	if len(added) == 0 {
		t.Fatal("no page boundary: the walk inserted nothing")
	}
	assertIDs(t, got, newest(old))
	assertIDs(t, walk(t, s, "alice", 7, nil), newest(append(old, added...)))
}

func testListPositions(t *testing.T, s records.Store) {
	rs := newest(seed(t, s, "alice", 6, 0))
	ctx := ctxT(t)
	list := func(after listing.Position) []records.Record {
		t.Helper()
		items, _, err := s.List(ctx, listing.Request{Owner: "alice", Limit: 100, After: after})
		if err != nil {
			t.Fatalf("List after %+v: %v", after, err)
		}
		return items
	}
	// A position stays valid after its record is deleted.
	if err := s.Delete(ctx, rs[2].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	assertIDs(t, list(listing.Position{CreatedAt: rs[2].CreatedAt, ID: rs[2].ID}), rs[3:])
	// Upper-case ids are the same position.
	assertIDs(t, list(listing.Position{CreatedAt: rs[3].CreatedAt, ID: strings.ToUpper(rs[3].ID)}), rs[4:])
	// Past year 9999 everything follows; before year 1 nothing does.
	assertIDs(t, list(listing.Position{CreatedAt: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.NewString()}), slices.Delete(slices.Clone(rs), 2, 3))
	assertIDs(t, list(listing.Position{CreatedAt: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.NewString()}), nil)
	// The same instant with the smallest and largest ids brackets that instant's record.
	at := rs[0].CreatedAt
	assertIDs(t, list(listing.Position{CreatedAt: at, ID: "ffffffff-ffff-ffff-ffff-ffffffffffff"}), slices.Delete(slices.Clone(rs), 2, 3))
	assertIDs(t, list(listing.Position{CreatedAt: at, ID: "00000000-0000-0000-0000-000000000000"}), slices.Delete(slices.Clone(rs[1:]), 1, 2))

	for _, p := range []listing.Request{
		{Owner: "alice", Limit: 0},
		{Owner: "alice", Limit: -1},
		{Owner: "alice", Limit: 10, After: listing.Position{CreatedAt: base, ID: "not-a-uuid"}},
	} {
		if _, _, err := s.List(ctx, p); err == nil {
			t.Errorf("List(%+v) succeeded, want an error", p)
		}
	}
}
