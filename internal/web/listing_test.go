package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
)

// TestParseListing (issue 16 item 4): who may list whose items, and every malformed value, at
// unit level. A non-admin naming another owner is 403; a malformed value is 400.
func TestParseListing(t *testing.T) {
	pos := listing.Position{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), ID: "019abcde-0000-7000-8000-000000000001"}
	cursor := listing.Encode(pos)
	cases := []struct {
		name    string
		query   string
		subject string
		admin   bool
		want    listing.Request
		code    decagon.Code
	}{
		{"defaults: own items", "", "alice", false, listing.Request{Owner: "alice", Limit: listing.DefaultLimit}, ""},
		{"admin defaults: every owner", "", "root", true, listing.Request{Owner: "", Limit: listing.DefaultLimit}, ""},
		{"own owner named", "owner=alice", "alice", false, listing.Request{Owner: "alice", Limit: listing.DefaultLimit}, ""},
		{"another owner, non-admin", "owner=bob", "alice", false, listing.Request{}, decagon.EForbidden},
		{"another owner, non-admin, with a limit", "limit=5&owner=bob", "alice", false, listing.Request{}, decagon.EForbidden},
		{"another owner, admin", "owner=bob", "root", true, listing.Request{Owner: "bob", Limit: listing.DefaultLimit}, ""},
		{"empty owner", "owner=", "alice", false, listing.Request{}, decagon.EInvalid},
		{"two owners", "owner=alice&owner=bob", "root", true, listing.Request{}, decagon.EInvalid},
		{"owner too long", "owner=" + string(make([]byte, 129)), "root", true, listing.Request{}, decagon.EInvalid},
		{"limit 1", "limit=1", "alice", false, listing.Request{Owner: "alice", Limit: 1}, ""},
		{"limit max", "limit=100", "alice", false, listing.Request{Owner: "alice", Limit: listing.MaxLimit}, ""},
		{"limit 0", "limit=0", "alice", false, listing.Request{}, decagon.EInvalid},
		{"limit over max", "limit=101", "alice", false, listing.Request{}, decagon.EInvalid},
		{"limit negative", "limit=-1", "alice", false, listing.Request{}, decagon.EInvalid},
		{"limit not a number", "limit=ten", "alice", false, listing.Request{}, decagon.EInvalid},
		{"two limits", "limit=1&limit=2", "alice", false, listing.Request{}, decagon.EInvalid},
		{"cursor", "cursor=" + cursor, "alice", false, listing.Request{Owner: "alice", Limit: listing.DefaultLimit, After: pos}, ""},
		{"bad cursor", "cursor=abc", "alice", false, listing.Request{}, decagon.EInvalid},
		{"two cursors", "cursor=" + cursor + "&cursor=" + cursor, "alice", false, listing.Request{}, decagon.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseListing(q, c.subject, c.admin)
			if code := decagon.ErrorCode(err); code != c.code {
				t.Fatalf("err = %v (code %q), want code %q", err, code, c.code)
			}
			if got.Owner != c.want.Owner || got.Limit != c.want.Limit || !got.After.CreatedAt.Equal(c.want.After.CreatedAt) || got.After.ID != c.want.After.ID {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestNewPage(t *testing.T) {
	type item struct{ p listing.Position }
	pos := func(i item) listing.Position { return i.p }
	if b := NewPage[item](nil, false, pos); b.Items == nil || len(b.Items) != 0 || b.NextCursor != "" {
		t.Errorf("empty page: %+v", b)
	}
	last := listing.Position{CreatedAt: time.Unix(5, 0).UTC(), ID: "019abcde-0000-7000-8000-000000000002"}
	items := []item{{listing.Position{CreatedAt: time.Unix(9, 0).UTC(), ID: "019abcde-0000-7000-8000-000000000001"}}, {last}}
	if b := NewPage(items, true, pos); b.NextCursor != listing.Encode(last) {
		t.Errorf("more: cursor %q, want the last item's", b.NextCursor)
	}
	if b := NewPage(items, false, pos); b.NextCursor != "" {
		t.Errorf("last page has a cursor %q", b.NextCursor)
	}
}

// FuzzParseListing: whatever the query, a non-admin's request is scoped to the caller, the
// limit is in range, and every refusal is a 400 or 403 code, never an internal error.
func FuzzParseListing(f *testing.F) {
	f.Add("limit=5&owner=alice", false)
	f.Add("owner=bob", false)
	f.Add("owner=bob", true)
	f.Add("cursor="+listing.Encode(listing.Position{CreatedAt: time.Unix(1, 0), ID: "019abcde-0000-7000-8000-000000000001"}), false)
	f.Add("limit=%00&owner=alice&owner=alice", true)
	f.Fuzz(func(t *testing.T, raw string, admin bool) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, err := ParseListing(q, "alice", admin)
		if err != nil {
			if code := decagon.ErrorCode(err); code != decagon.EInvalid && code != decagon.EForbidden {
				t.Fatalf("%q: code %q", raw, code)
			}
			return
		}
		if !admin && got.Owner != "alice" {
			t.Fatalf("%q: a non-admin lists owner %q", raw, got.Owner)
		}
		if got.Limit < 1 || got.Limit > listing.MaxLimit {
			t.Fatalf("%q: limit %d", raw, got.Limit)
		}
	})
}
