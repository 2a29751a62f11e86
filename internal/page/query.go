package page

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/decagon/decagon/internal/problem"
)

// Limits of every listing.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Query is a listing request read from the URL: ?limit=&cursor=&owner=.
type Query struct {
	// Owner filters by owner; "" means every owner (admins only).
	Owner string
	Limit int
	After Position
}

// ParseQuery reads limit, cursor and owner from q for a caller. Callers see their own records;
// admins see all, or one owner's with ?owner=. Every refusal is a 4xx problem.
func ParseQuery(q url.Values, subject string, admin bool) (Query, error) {
	out := Query{Owner: subject, Limit: DefaultLimit}
	if admin {
		out.Owner = ""
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || len(v) > 1 || n < 1 || n > MaxLimit {
			return Query{}, problem.Newf(http.StatusBadRequest, "limit must be an integer from 1 to %d", MaxLimit)
		}
		out.Limit = n
	}
	if v, ok := q["cursor"]; ok {
		pos, err := Decode(v[0])
		if err != nil || len(v) > 1 {
			return Query{}, problem.New(http.StatusBadRequest, "cursor is not one this API issued")
		}
		out.After = pos
	}
	if v, ok := q["owner"]; ok {
		switch {
		case len(v) > 1 || v[0] == "" || len(v[0]) > 128:
			return Query{}, problem.New(http.StatusBadRequest, "owner must be one non-empty value")
		case admin:
			out.Owner = v[0]
		case v[0] != subject:
			return Query{}, problem.New(http.StatusForbidden, "only admins may list another owner's records")
		}
	}
	return out, nil
}

// Body is a listing response: {"items":[...],"next_cursor":"..."}, without next_cursor on the
// last page and with [] (never null) when empty.
type Body[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// NewBody returns the body for one page of items; pos gives an item's position.
func NewBody[T any](items []T, more bool, pos func(T) Position) Body[T] {
	b := Body[T]{Items: items}
	if b.Items == nil {
		b.Items = []T{}
	}
	if more && len(items) > 0 {
		b.NextCursor = Encode(pos(items[len(items)-1]))
	}
	return b
}
