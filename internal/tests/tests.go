// Package tests is the seed's first service ("test1"): records a caller creates, reads, lists
// and deletes. This file holds the domain types and the store interface its handlers use; the
// backends live in internal/store.
package tests

import (
	"context"
	"encoding/json"
	"time"

	"github.com/decagon/decagon/internal/page"
)

// Record is one test record.
type Record struct {
	ID        string          `json:"test_id"`
	Name      string          `json:"name"`
	Data      json.RawMessage `json:"data"`
	Owner     string          `json:"owner"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Idempotency ties a create to the caller's Idempotency-Key.
type Idempotency struct {
	// Key is the caller's Idempotency-Key header.
	Key string
	// Hash is the SHA-256 of the canonical request body; a replay with another hash is a conflict.
	Hash string
}

// Page asks for one page of a listing, newest first.
type Page struct {
	// Owner filters by owner; empty means every owner (admins only).
	Owner string
	// Limit is the page size, 1..100.
	Limit int
	// After is the position the previous page ended at; the zero value starts at the newest.
	After Position
}

// Position is a place in the newest-first order: records strictly older than it come next.
type Position = page.Position

// Store keeps test records. Every backend returns problem.ErrNotFound for a missing record and
// problem.ErrConflict for an idempotency key reused with another body.
type Store interface {
	// Create stores r durably before returning. With idem set, a second Create by the same owner
	// with the same key and hash returns the first record and replayed=true (also when the calls
	// race); the same key with another hash returns ErrConflict. Keys are kept at least 24 h.
	Create(ctx context.Context, r Record, idem *Idempotency) (stored Record, replayed bool, err error)
	// Get returns the record with id; owner "" matches any owner.
	Get(ctx context.Context, id, owner string) (Record, error)
	// List returns up to p.Limit records newest first (created_at, then test_id, descending) and
	// whether more follow.
	List(ctx context.Context, p Page) (items []Record, more bool, err error)
	// Delete removes the record with id; owner "" matches any owner.
	Delete(ctx context.Context, id, owner string) error
	// PurgeIdempotencyKeys removes keys created before the given time.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}
