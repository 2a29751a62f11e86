package contract

import (
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/uploads"
)

const someID = "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e"

var at = time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))

// TestRecord (issue 16 item 4): what every backend stores, and which input is refused with
// which code. "" means accepted; EInternal means a plain error (a bug of the caller, not the
// client's input).
func TestRecord(t *testing.T) {
	ok := records.Record{ID: strings.ToUpper(someID), Name: "n", Owner: "alice", CreatedAt: at}
	cases := []struct {
		name   string
		change func(*records.Record)
		code   decagon.Code
	}{
		{"valid", func(*records.Record) {}, ""},
		{"null data", func(r *records.Record) { r.Data = []byte(" null ") }, ""},
		{"object data", func(r *records.Record) { r.Data = []byte(`{"k":"é"}`) }, ""},
		{"not a UUID", func(r *records.Record) { r.ID = "x" }, decagon.EInternal},
		{"NUL in name", func(r *records.Record) { r.Name = "a\x00" }, decagon.EUnprocessable},
		{"invalid UTF-8 name", func(r *records.Record) { r.Name = "a\xff" }, decagon.EUnprocessable},
		{"invalid UTF-8 owner", func(r *records.Record) { r.Owner = "\xc3" }, decagon.EUnprocessable},
		{"invalid JSON", func(r *records.Record) { r.Data = []byte(`{"a"`) }, decagon.EUnprocessable},
		{"invalid UTF-8 in data", func(r *records.Record) { r.Data = []byte("{\"a\":\"\xff\"}") }, decagon.EUnprocessable},
		{"year 10000", func(r *records.Record) { r.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, decagon.EUnprocessable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.change(&r)
			got, err := Record(r)
			if code := decagon.ErrorCode(err); code != c.code {
				t.Fatalf("err = %v (code %q), want %q", err, code, c.code)
			}
			if err != nil {
				return
			}
			if got.ID != someID || got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond()%1000 != 0 || !got.UpdatedAt.Equal(got.CreatedAt) {
				t.Errorf("not normalized: %+v", got)
			}
			if string(r.Data) == " null " && got.Data != nil {
				t.Errorf("null data kept as %q", got.Data)
			}
		})
	}
}

func TestIdempotency(t *testing.T) {
	for _, c := range []struct {
		idem *records.Idempotency
		code decagon.Code
	}{
		{nil, ""},
		{&records.Idempotency{Key: "k", Hash: "h"}, ""},
		{&records.Idempotency{Key: "", Hash: "h"}, decagon.EUnprocessable},
		{&records.Idempotency{Key: "k\x00", Hash: "h"}, decagon.EUnprocessable},
		{&records.Idempotency{Key: "k", Hash: "\xff"}, decagon.EUnprocessable},
	} {
		if code := decagon.ErrorCode(Idempotency(c.idem)); code != c.code {
			t.Errorf("Idempotency(%+v): code %q, want %q", c.idem, code, c.code)
		}
	}
	if decagon.ErrorCode(KeyReused()) != decagon.EUnprocessable || decagon.ErrorCode(Duplicate("x")) != decagon.EConflict {
		t.Error("KeyReused must be EUnprocessable (422) and Duplicate EConflict (409)")
	}
}

func TestListing(t *testing.T) {
	far := time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)
	early := time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name         string
		req          listing.Request
		start, empty bool
		fails        bool
	}{
		{"from the start", listing.Request{Owner: "a", Limit: 1}, true, false, false},
		{"after a position", listing.Request{Limit: 5, After: listing.Position{CreatedAt: at, ID: strings.ToUpper(someID)}}, false, false, false},
		{"after year 9999", listing.Request{Limit: 5, After: listing.Position{CreatedAt: far, ID: someID}}, true, false, false},
		{"before year 1", listing.Request{Limit: 5, After: listing.Position{CreatedAt: early, ID: someID}}, false, true, false},
		{"limit 0", listing.Request{Limit: 0}, false, false, true},
		{"bad position id", listing.Request{Limit: 5, After: listing.Position{CreatedAt: at, ID: "x"}}, false, false, true},
		{"invalid owner", listing.Request{Owner: "\xff", Limit: 5}, false, false, true},
	}
	for _, c := range cases {
		got, start, empty, err := Listing(c.req)
		if (err != nil) != c.fails || (err == nil && (start != c.start || empty != c.empty)) {
			t.Errorf("%s: start %v empty %v err %v; want %v %v fails=%v", c.name, start, empty, err, c.start, c.empty, c.fails)
		}
		if err == nil && !start && !empty && (got.After.ID != someID || got.After.CreatedAt.Location() != time.UTC) {
			t.Errorf("%s: position not normalized: %+v", c.name, got.After)
		}
	}
}

func TestUploadRules(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	ok := uploads.Upload{ID: someID, Owner: "alice", Filename: "f.pdf", ContentType: "application/pdf", Status: uploads.StatusPending, CreatedAt: at, ExpiresAt: at.Add(time.Minute)}
	cases := []struct {
		name   string
		change func(*uploads.Upload)
		code   decagon.Code
	}{
		{"pending", func(*uploads.Upload) {}, ""},
		{"available", func(u *uploads.Upload) { u.Status, u.SHA256 = uploads.StatusAvailable, sha }, ""},
		{"pending with a sha", func(u *uploads.Upload) { u.SHA256 = sha }, decagon.EInternal},
		{"available without a sha", func(u *uploads.Upload) { u.Status = uploads.StatusAvailable }, decagon.EInternal},
		{"unknown status", func(u *uploads.Upload) { u.Status = "gone" }, decagon.EInternal},
		{"pending without an expiry", func(u *uploads.Upload) { u.ExpiresAt = time.Time{} }, decagon.EInternal},
		{"available without an expiry", func(u *uploads.Upload) {
			u.Status, u.SHA256, u.ExpiresAt = uploads.StatusAvailable, sha, time.Time{}
		}, ""},
		{"negative size", func(u *uploads.Upload) { u.Size = -1 }, decagon.EUnprocessable},
		{"NUL in file name", func(u *uploads.Upload) { u.Filename = "a\x00" }, decagon.EUnprocessable},
		{"invalid UTF-8 content type", func(u *uploads.Upload) { u.ContentType = "text/\xff" }, decagon.EUnprocessable},
	}
	for _, c := range cases {
		u := ok
		c.change(&u)
		if _, err := Upload(u); decagon.ErrorCode(err) != c.code {
			t.Errorf("%s: err = %v, want code %q", c.name, err, c.code)
		}
	}
	for _, c := range []struct {
		ct   string
		size int64
		sha  string
		code decagon.Code
	}{
		{"text/plain", 1, sha, ""},
		{"text/plain", -1, sha, decagon.EUnprocessable},
		{"text/\x00", 1, sha, decagon.EUnprocessable},
		{"text/plain", 1, strings.ToUpper(sha), decagon.EInternal},
		{"text/plain", 1, "abc", decagon.EInternal},
	} {
		if err := Completion(c.ct, c.size, c.sha); decagon.ErrorCode(err) != c.code {
			t.Errorf("Completion(%q, %d, %q): err = %v, want code %q", c.ct, c.size, c.sha, err, c.code)
		}
	}
}
