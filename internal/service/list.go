package service

import (
	"context"
	"fmt"
	"net/http"

	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/web"
)

// Lister is a store's listing method: up to req.Limit items newest first, and whether more
// follow.
type Lister[T any] func(ctx context.Context, req listing.Request) (items []T, more bool, err error)

// List returns the handler of a listing route (GET /test, GET /upload): the caller's items —
// every owner's, or one owner's with ?owner=, for an admin — a page at a time, with the cursor
// of the next page. what names the items in errors ("tests"); pos gives an item's place in the
// newest-first order.
func List[T any](what string, list Lister[T], pos func(T) listing.Position) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		caller, err := CallerOf(r)
		if err != nil {
			return err
		}
		req, err := web.ParseListing(r.URL.Query(), caller.Subject, caller.Admin)
		if err != nil {
			return err
		}
		items, more, err := list(r.Context(), req)
		if err != nil {
			return fmt.Errorf("list %s: %w", what, err)
		}
		return web.WriteJSON(w, http.StatusOK, web.NewPage(items, more, pos))
	}
}
