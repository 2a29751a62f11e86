package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/uploads"
)

// OpenUploads returns a new, empty, migrated uploads store, closed by t.Cleanup.
type OpenUploads func(t *testing.T) uploads.Store

// RunUploads runs the uploads.Store conformance suite against the stores open returns; each
// case opens its own store and runs in parallel with the others.
func RunUploads(t *testing.T, open OpenUploads) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, uploads.Store)
	}{
		{"RoundTrip", testUploadRoundTrip},
		{"DuplicateID", testUploadDuplicateID},
		{"InvalidInput", testUploadInvalidInput},
		{"Complete", testUploadComplete},
		{"CompleteConcurrent", testUploadCompleteConcurrent},
		{"OwnerScope", testUploadOwnerScope},
		{"Delete", testUploadDelete},
		{"List", testUploadList},
		{"ContextDeadline", testUploadContextDeadline},
		{"DeleteTombstone", testUploadDeleteTombstone},
		{"ClaimExpired", testUploadClaimExpired},
		{"ClaimRacesComplete", testUploadClaimRacesComplete},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
}

func hexSHA(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// presignTTL is how long newUpload's URL lasts.
const presignTTL = 15 * time.Minute

// newUpload returns a pending upload of owner created at at, as a presign stores it: with a
// fresh UUIDv7 id and its URL expiring presignTTL later.
func newUpload(owner string, at time.Time) uploads.Upload {
	id := uuid.Must(uuid.NewV7()).String()
	exp := at
	if exp.IsZero() {
		exp = time.Now()
	}
	return uploads.Upload{ID: id, Owner: owner, Filename: "report-" + id[:8] + ".pdf",
		ContentType: "application/pdf", Size: 1234, Status: uploads.StatusPending, CreatedAt: at,
		ExpiresAt: exp.Add(presignTTL).UTC().Truncate(time.Microsecond)}
}

// availableUpload is newUpload as a direct upload stores it: available with its SHA-256 and
// no URL.
func availableUpload(owner string, at time.Time) uploads.Upload {
	u := newUpload(owner, at)
	u.Status, u.SHA256, u.ExpiresAt = uploads.StatusAvailable, hexSHA(u.ID), time.Time{}
	return u
}

func mustCreateUpload(t testing.TB, s uploads.Store, u uploads.Upload) uploads.Upload {
	t.Helper()
	if err := s.Create(ctxT(t), u); err != nil {
		t.Fatalf("Create(%s): %v", u.ID, err)
	}
	return u
}

func mustGetUpload(t testing.TB, s uploads.Store, id, owner string) uploads.Upload {
	t.Helper()
	got, err := s.Get(ctxT(t), id, owner)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v", id, owner, err)
	}
	return got
}

// assertUpload requires got == want field by field, created_at exactly and in UTC.
func assertUpload(t testing.TB, got, want uploads.Upload) {
	t.Helper()
	gotAt, wantAt := got.CreatedAt, want.CreatedAt
	gotExp, wantExp := got.ExpiresAt, want.ExpiresAt
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	got.ExpiresAt, want.ExpiresAt = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("upload =\n%+v\nwant\n%+v", got, want)
	}
	if !gotExp.Equal(wantExp) || (!gotExp.IsZero() && gotExp.Location() != time.UTC) {
		t.Errorf("expires_at = %s (%s), want %s in UTC", gotExp.Format(time.RFC3339Nano), gotExp.Location(), wantExp.Format(time.RFC3339Nano))
	}
	if !gotAt.Equal(wantAt) || gotAt.Location() != time.UTC {
		t.Errorf("created_at = %s (%s), want %s in UTC", gotAt.Format(time.RFC3339Nano), gotAt.Location(), wantAt.Format(time.RFC3339Nano))
	}
}

func testUploadRoundTrip(t *testing.T, s uploads.Store) {
	zone := time.FixedZone("UTC-3:30", -(3*3600 + 1800))
	for _, c := range []struct {
		name   string
		change func(*uploads.Upload)
	}{
		{"pending", func(*uploads.Upload) {}},
		{"available", func(u *uploads.Upload) { u.Status, u.SHA256 = uploads.StatusAvailable, hexSHA("x") }},
		{"empty file", func(u *uploads.Upload) { u.Size, u.Status, u.SHA256 = 0, uploads.StatusAvailable, hexSHA("") }},
		{"5 GiB", func(u *uploads.Upload) { u.Size = 5 << 30 }},
		{"unicode and quotes", func(u *uploads.Upload) { u.Filename = `żółw "🐢" 日本 'x'.txt` }},
		{"owner with spaces", func(u *uploads.Upload) { u.Owner = "alice smith" }},
		{"content type with parameters", func(u *uploads.Upload) { u.ContentType = "text/plain; charset=utf-8" }},
		{"empty content type", func(u *uploads.Upload) { u.ContentType = "" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUpload("alice", base.Add(789*time.Nanosecond).In(zone))
			c.change(&u)
			mustCreateUpload(t, s, u)
			want := u
			want.CreatedAt = base
			assertUpload(t, mustGetUpload(t, s, u.ID, u.Owner), want)
		})
	}
	t.Run("upper-case id", func(t *testing.T) {
		u := newUpload("alice", base)
		want := u
		u.ID = strings.ToUpper(u.ID)
		mustCreateUpload(t, s, u)
		assertUpload(t, mustGetUpload(t, s, want.ID, ""), want)
	})
	t.Run("zero time defaults to now", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		u := mustCreateUpload(t, s, newUpload("alice", time.Time{}))
		got := mustGetUpload(t, s, u.ID, "alice")
		if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("created_at %s, want now", got.CreatedAt)
		}
	})
}

func testUploadDuplicateID(t *testing.T, s uploads.Store) {
	u := mustCreateUpload(t, s, newUpload("alice", base))
	dup := availableUpload("bob", base.Add(time.Hour))
	dup.ID = strings.ToUpper(u.ID)
	if err := s.Create(ctxT(t), dup); !errors.Is(err, decagon.ErrConflict) {
		t.Errorf("Create with an existing id: err = %v, want ErrConflict", err)
	}
	assertUpload(t, mustGetUpload(t, s, u.ID, ""), u)
}

func testUploadInvalidInput(t *testing.T, s uploads.Store) {
	for _, c := range []struct {
		name   string
		change func(*uploads.Upload)
		is422  bool
	}{
		{"NUL in filename", func(u *uploads.Upload) { u.Filename = "a\x00b" }, true},
		{"invalid UTF-8 in filename", func(u *uploads.Upload) { u.Filename = "a\xffb" }, true},
		{"NUL in content type", func(u *uploads.Upload) { u.ContentType = "text/plain\x00" }, true},
		{"invalid UTF-8 in owner", func(u *uploads.Upload) { u.Owner = "alice\xc3" }, true},
		{"year 10000", func(u *uploads.Upload) { u.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, true},
		{"negative size", func(u *uploads.Upload) { u.Size = -1 }, true},
		{"not a uuid", func(u *uploads.Upload) { u.ID = "nope" }, false},
		{"unknown status", func(u *uploads.Upload) { u.Status = "done" }, false},
		{"no status", func(u *uploads.Upload) { u.Status = "" }, false},
		{"pending with a sha256", func(u *uploads.Upload) { u.SHA256 = hexSHA("x") }, false},
		{"available without a sha256", func(u *uploads.Upload) { u.Status = uploads.StatusAvailable }, false},
		{"upper-case sha256", func(u *uploads.Upload) {
			u.Status, u.SHA256 = uploads.StatusAvailable, strings.ToUpper(hexSHA("x"))
		}, false},
		{"short sha256", func(u *uploads.Upload) { u.Status, u.SHA256 = uploads.StatusAvailable, "abc" }, false},
		{"pending without an expiry", func(u *uploads.Upload) { u.ExpiresAt = time.Time{} }, false},
		{"expiry in year 10000", func(u *uploads.Upload) { u.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, true},
	} {
		u := newUpload("alice", base)
		c.change(&u)
		err := s.Create(ctxT(t), u)
		switch {
		case err == nil:
			t.Errorf("%s: Create succeeded", c.name)
		case c.is422 && decagon.ErrorCode(err) != decagon.EUnprocessable:
			t.Errorf("%s: err = %v, want decagon.EUnprocessable", c.name, err)
		}
	}
	items, _, err := s.List(ctxT(t), listing.Request{Limit: 100})
	if err != nil || len(items) != 0 {
		t.Errorf("after invalid creates: List = %d items, %v; want none", len(items), err)
	}
}

// completed is u as Complete leaves a pending upload.
func completed(u uploads.Upload, contentType string, size int64, sha string) uploads.Upload {
	u.ContentType, u.Size, u.SHA256, u.Status = contentType, size, sha, uploads.StatusAvailable
	return u
}

func testUploadComplete(t *testing.T, s uploads.Store) {
	ctx := ctxT(t)
	u := mustCreateUpload(t, s, newUpload("alice", base))
	want := completed(u, "image/png", 4096, hexSHA("png"))
	got, err := s.Complete(ctx, strings.ToUpper(u.ID), "alice", want.ContentType, want.Size, want.SHA256)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	assertUpload(t, got, want)
	assertUpload(t, mustGetUpload(t, s, u.ID, "alice"), want)

	// Completing again, even with other values, returns the upload unchanged.
	got, err = s.Complete(ctx, u.ID, "alice", "text/plain", 1, hexSHA("other"))
	if err != nil {
		t.Fatalf("second Complete: %v", err)
	}
	assertUpload(t, got, want)
	assertUpload(t, mustGetUpload(t, s, u.ID, "alice"), want)

	// A direct upload is available from the start.
	direct := mustCreateUpload(t, s, availableUpload("alice", base))
	got, err = s.Complete(ctx, direct.ID, "alice", "text/plain", 1, hexSHA("other"))
	if err != nil {
		t.Fatalf("Complete of a direct upload: %v", err)
	}
	assertUpload(t, got, direct)

	// Invalid values are refused and leave the upload pending.
	pending := mustCreateUpload(t, s, newUpload("alice", base))
	for _, c := range []struct {
		name, contentType string
		size              int64
		sha               string
		is422             bool
	}{
		{"NUL in content type", "a\x00", 1, hexSHA("a"), true},
		{"invalid UTF-8 in content type", "\xff", 1, hexSHA("a"), true},
		{"negative size", "text/plain", -1, hexSHA("a"), true},
		{"empty sha256", "text/plain", 1, "", false},
		{"malformed sha256", "text/plain", 1, strings.Repeat("g", 64), false},
	} {
		_, err := s.Complete(ctx, pending.ID, "alice", c.contentType, c.size, c.sha)
		switch {
		case err == nil:
			t.Errorf("Complete with %s succeeded", c.name)
		case c.is422 && decagon.ErrorCode(err) != decagon.EUnprocessable:
			t.Errorf("Complete with %s: err = %v, want decagon.EUnprocessable", c.name, err)
		}
	}
	assertUpload(t, mustGetUpload(t, s, pending.ID, "alice"), pending)
}

// testUploadCompleteConcurrent races completes of one upload with different values: all succeed
// and all return the same row, made of one caller's values, which Get then returns.
func testUploadCompleteConcurrent(t *testing.T, s uploads.Store) {
	const uploadsN, callers = 4, 8
	for range uploadsN {
		u := mustCreateUpload(t, s, newUpload("alice", base))
		results := make([]uploads.Upload, callers)
		errs := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				results[i], errs[i] = s.Complete(ctxT(t), u.ID, "alice", "type/"+string(rune('a'+i)), int64(100+i), hexSHA(string(rune('a'+i))))
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Complete: %v", err)
		}
		w := results[0].Size - 100
		if w < 0 || w >= callers {
			t.Fatalf("completed size %d is no caller's", results[0].Size)
		}
		want := completed(u, "type/"+string(rune('a'+w)), 100+w, hexSHA(string(rune('a'+w))))
		for i := range results {
			assertUpload(t, results[i], want)
		}
		assertUpload(t, mustGetUpload(t, s, u.ID, "alice"), want)
	}
}

func testUploadOwnerScope(t *testing.T, s uploads.Store) {
	ctx := ctxT(t)
	u := mustCreateUpload(t, s, newUpload("alice", base))
	sha := hexSHA("a")
	for _, c := range []struct{ name, id, owner string }{
		{"other owner", u.ID, "bob"},
		{"owner differing in case", u.ID, "Alice"},
		{"NUL in owner", u.ID, "alice\x00"},
		{"invalid UTF-8 owner", u.ID, "\xff"},
		{"unknown id", uuid.NewString(), ""},
		{"empty id", "", ""},
		{"not a uuid", "not-a-uuid", ""},
		{"injection", "' OR 1=1 --", ""},
		{"uuid with junk", u.ID + "0", ""},
	} {
		_, err := s.Get(ctx, c.id, c.owner)
		assertNotFound(t, err, "Get: "+c.name)
		_, err = s.Complete(ctx, c.id, c.owner, "text/plain", 1, sha)
		assertNotFound(t, err, "Complete: "+c.name)
		assertNotFound(t, s.Delete(ctx, c.id, c.owner), "Delete: "+c.name)
	}
	assertUpload(t, mustGetUpload(t, s, u.ID, "alice"), u)

	// A direct upload (no URL, deleted outright rather than kept as a tombstone) is as much
	// its owner's.
	direct := mustCreateUpload(t, s, availableUpload("alice", base))
	assertNotFound(t, s.Delete(ctx, direct.ID, "bob"), "Delete of a direct upload: other owner")
	assertUpload(t, mustGetUpload(t, s, direct.ID, "alice"), direct)

	// Owner "" is an admin: any owner's upload.
	assertUpload(t, mustGetUpload(t, s, u.ID, ""), u)
	got, err := s.Complete(ctx, u.ID, "", "text/plain", 1, sha)
	if err != nil {
		t.Fatalf("admin Complete: %v", err)
	}
	assertUpload(t, got, completed(u, "text/plain", 1, sha))
	if err := s.Delete(ctx, u.ID, ""); err != nil {
		t.Fatalf("admin Delete: %v", err)
	}
	_, err = s.Get(ctx, u.ID, "")
	assertNotFound(t, err, "Get after admin Delete")
}

func testUploadDelete(t *testing.T, s uploads.Store) {
	ctx := ctxT(t)
	u := mustCreateUpload(t, s, availableUpload("alice", base))
	keep := mustCreateUpload(t, s, newUpload("alice", base))
	if err := s.Delete(ctx, strings.ToUpper(u.ID), "alice"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx, u.ID, "alice")
	assertNotFound(t, err, "Get after Delete")
	_, err = s.Complete(ctx, u.ID, "alice", "text/plain", 1, hexSHA("a"))
	assertNotFound(t, err, "Complete after Delete")
	assertNotFound(t, s.Delete(ctx, u.ID, "alice"), "second Delete")
	items, more, err := s.List(ctx, listing.Request{Owner: "alice", Limit: 10})
	if err != nil || more || len(items) != 1 {
		t.Fatalf("List after Delete = %d items, more %v, err %v; want 1", len(items), more, err)
	}
	assertUpload(t, items[0], keep)
}

func testUploadContextDeadline(t *testing.T, s uploads.Store) {
	u := mustCreateUpload(t, s, newUpload("alice", base))
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"Create", func() error { return s.Create(ctx, newUpload("alice", base)) }},
		{"Get", func() error { _, err := s.Get(ctx, u.ID, "alice"); return err }},
		{"List", func() error { _, _, err := s.List(ctx, listing.Request{Owner: "alice", Limit: 10}); return err }},
		{"Complete", func() error { _, err := s.Complete(ctx, u.ID, "alice", "a/b", 1, hexSHA("a")); return err }},
		{"Delete", func() error { return s.Delete(ctx, u.ID, "alice") }},
	} {
		if err := c.call(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with an expired context: err = %v, want context.DeadlineExceeded", c.name, err)
		}
	}
	// Nothing happened.
	assertUpload(t, mustGetUpload(t, s, u.ID, "alice"), u)
	if items, _, err := s.List(ctxT(t), listing.Request{Owner: "alice", Limit: 10}); err != nil || len(items) != 1 {
		t.Errorf("alice has %d uploads (err %v), want 1", len(items), err)
	}
}
