package web

import (
	"net/url"
	"strconv"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
)

// ParseListing reads ?limit=, ?cursor= and ?owner= for a caller. Callers see their own items;
// admins see all, or one owner's with ?owner=. A malformed value is decagon.EInvalid (400);
// a non-admin naming another owner is decagon.EForbidden (403).
func ParseListing(q url.Values, subject string, admin bool) (listing.Request, error) {
	out := listing.Request{Owner: subject, Limit: listing.DefaultLimit}
	if admin {
		out.Owner = ""
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || len(v) > 1 || n < 1 || n > listing.MaxLimit {
			return listing.Request{}, decagon.Errorf(decagon.EInvalid, "limit must be one integer from 1 to %d", listing.MaxLimit)
		}
		out.Limit = n
	}
	if v, ok := q["cursor"]; ok {
		pos, err := listing.Decode(v[0])
		if err != nil || len(v) > 1 {
			return listing.Request{}, decagon.Errorf(decagon.EInvalid, "cursor is not one this API issued; pass next_cursor from the previous page unchanged")
		}
		out.After = pos
	}
	if v, ok := q["owner"]; ok {
		switch {
		case len(v) > 1 || v[0] == "" || len(v[0]) > 128:
			return listing.Request{}, decagon.Errorf(decagon.EInvalid, "owner must be one non-empty value of at most 128 bytes")
		case admin:
			out.Owner = v[0]
		case v[0] != subject:
			return listing.Request{}, decagon.Errorf(decagon.EForbidden, "only admins may list another owner's items; omit owner to list your own")
		}
	}
	return out, nil
}

// Page is a listing response: {"items":[...],"next_cursor":"..."}, without next_cursor on the
// last page and with [] (never null) when empty.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// NewPage returns the body for one page of items; pos gives an item's position.
func NewPage[T any](items []T, more bool, pos func(T) listing.Position) Page[T] {
	b := Page[T]{Items: items}
	if b.Items == nil {
		b.Items = []T{}
	}
	if more && len(items) > 0 {
		b.NextCursor = listing.Encode(pos(items[len(items)-1]))
	}
	return b
}
