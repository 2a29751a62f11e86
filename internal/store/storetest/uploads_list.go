package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/uploads"
)

// walkUploads lists every page for owner with the given limit and returns the uploads in order.
// It fails on a page over the limit, or one short of it that claims more.
func walkUploads(t *testing.T, s uploads.Store, owner string, limit int) []uploads.Upload {
	t.Helper()
	var all []uploads.Upload
	p := listing.Request{Owner: owner, Limit: limit}
	for n := 0; ; n++ {
		if n > 1000 {
			t.Fatal("listing does not end")
		}
		items, more, err := s.List(ctxT(t), p)
		if err != nil {
			t.Fatalf("List(%+v): %v", p, err)
		}
		if len(items) > limit || (more && len(items) != limit) {
			t.Fatalf("page %d: %d items, more %v, limit %d", n, len(items), more, limit)
		}
		all = append(all, items...)
		if !more {
			return all
		}
		last := items[len(items)-1]
		p.After = listing.Position{CreatedAt: last.CreatedAt, ID: last.ID}
	}
}

// seedUploads creates distinct uploads of owner a minute apart, then ties at one instant with
// random ids (so that ids of one instant are not in creation order), pending and available.
func seedUploads(t *testing.T, s uploads.Store, owner string, distinct, ties int) []uploads.Upload {
	t.Helper()
	var us []uploads.Upload
	for i := range distinct {
		us = append(us, mustCreateUpload(t, s, availableUpload(owner, base.Add(-time.Duration(i)*time.Minute))))
	}
	for i := range ties {
		u := newUpload(owner, base.Add(time.Hour))
		if i%2 == 0 {
			u = availableUpload(owner, u.CreatedAt)
		}
		u.ID = uuid.NewString()
		us = append(us, mustCreateUpload(t, s, u))
	}
	return newestUploads(us)
}

// newestUploads sorts uploads as List returns them: created_at, then upload_id, descending.
func newestUploads(us []uploads.Upload) []uploads.Upload {
	us = slices.Clone(us)
	slices.SortFunc(us, func(a, b uploads.Upload) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return us
}

func uploadIDs(us []uploads.Upload) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func testUploadList(t *testing.T, s uploads.Store) {
	ctx := ctxT(t)
	alice := seedUploads(t, s, "alice", 5, 12)
	bob := seedUploads(t, s, "bob", 3, 4)
	for _, limit := range []int{1, 3, 4, 16, 17, 18, 100} {
		if got := uploadIDs(walkUploads(t, s, "alice", limit)); !slices.Equal(got, uploadIDs(alice)) {
			t.Errorf("alice, limit %d: listed\n%v\nwant\n%v", limit, got, uploadIDs(alice))
		}
	}
	if got := uploadIDs(walkUploads(t, s, "bob", 2)); !slices.Equal(got, uploadIDs(bob)) {
		t.Errorf("bob: listed\n%v\nwant\n%v", got, uploadIDs(bob))
	}
	want := uploadIDs(newestUploads(append(slices.Clone(alice), bob...)))
	if got := uploadIDs(walkUploads(t, s, "", 5)); !slices.Equal(got, want) {
		t.Errorf("admin: listed\n%v\nwant\n%v", got, want)
	}
	// Uploads round-trip through List as through Create; more is exact at the boundary.
	items, more, err := s.List(ctx, listing.Request{Owner: "alice", Limit: len(alice)})
	if err != nil || more || len(items) != len(alice) {
		t.Fatalf("List of exactly all: %d items, more %v, err %v", len(items), more, err)
	}
	for i := range items {
		assertUpload(t, items[i], alice[i])
	}
	if _, more, err := s.List(ctx, listing.Request{Owner: "alice", Limit: len(alice) - 1}); err != nil || !more {
		t.Errorf("List of all but one: more %v, err %v; want more", more, err)
	}
	if items, more, err := s.List(ctx, listing.Request{Owner: "carol", Limit: 10}); err != nil || more || len(items) != 0 {
		t.Errorf("List of an owner without uploads = %d items, more %v, err %v", len(items), more, err)
	}
	// Positions: the smallest id at the ties' instant starts after all of them; before year 1
	// nothing follows; past year 9999 everything does.
	for _, c := range []struct {
		name  string
		after listing.Position
		want  []uploads.Upload
	}{
		{"after the ties", listing.Position{CreatedAt: base.Add(time.Hour), ID: "00000000-0000-0000-0000-000000000000"}, alice[12:]},
		{"upper-case id", listing.Position{CreatedAt: alice[2].CreatedAt, ID: strings.ToUpper(alice[2].ID)}, alice[3:]},
		{"before year 1", listing.Position{CreatedAt: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.NewString()}, nil},
		{"after year 9999", listing.Position{CreatedAt: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.NewString()}, alice},
	} {
		items, _, err := s.List(ctx, listing.Request{Owner: "alice", Limit: 100, After: c.after})
		if err != nil || !slices.Equal(uploadIDs(items), uploadIDs(c.want)) {
			t.Errorf("%s: listed %v, err %v; want %v", c.name, uploadIDs(items), err, uploadIDs(c.want))
		}
	}
	for _, p := range []listing.Request{
		{Owner: "alice", Limit: 0},
		{Owner: "alice", Limit: -1},
		{Owner: "alice", Limit: 10, After: listing.Position{CreatedAt: base, ID: "not-a-uuid"}},
		{Owner: "alice\x00", Limit: 10},
	} {
		if _, _, err := s.List(ctx, p); err == nil {
			t.Errorf("List(%+v) succeeded, want an error", p)
		}
	}
}
