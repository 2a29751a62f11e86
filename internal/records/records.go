// Package records is the domain of the seed's first service ("test1", served under /test):
// records a caller creates, reads, lists and deletes. It holds the Record type, the Store
// interface every backend implements, the rules of the API (name length, data size, the
// idempotency key's lifetime) and the validation that applies them, returning decagon errors.
// The HTTP adapter is recordsapi; the backends live in internal/store.
//
// It may import the root package decagon, internal/listing and the standard library; never
// net/http, internal/problem, internal/web or any adapter.
package records

import (
	"context"
	"encoding/json"
	"time"

	"github.com/decagon/decagon/internal/listing"
)

// Limits of the API, as api/openapi.yaml states them.
const (
	MaxNameLength = 200      // characters
	MaxDataBytes  = 64 << 10 // the data object, once compacted
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL = 24 * time.Hour
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

// Position returns r's place in the newest-first order.
func (r Record) Position() listing.Position {
	return listing.Position{CreatedAt: r.CreatedAt, ID: r.ID}
}

// Idempotency ties a create to the caller's Idempotency-Key.
type Idempotency struct {
	// Key is the caller's Idempotency-Key header.
	Key string
	// Hash is the SHA-256 of the canonical request (RequestHash); a replay with another hash
	// is refused.
	Hash string
}

// Store keeps test records. Every backend returns an error matching decagon.ErrNotFound for a
// missing record (or one of another owner), decagon.EUnprocessable for an idempotency key reused
// with another body, decagon.EUnavailable when the database cannot be reached, and
// decagon.EUnprocessable for input it cannot store faithfully.
type Store interface {
	// Create stores r durably before returning. With idem set, a second Create by the same owner
	// with the same key and hash returns the first record and replayed=true (also when the calls
	// race); the same key with another hash is refused (EUnprocessable). Keys are kept at least
	// 24 h.
	Create(ctx context.Context, r Record, idem *Idempotency) (stored Record, replayed bool, err error)
	// Get returns the record with id; owner "" matches any owner.
	Get(ctx context.Context, id, owner string) (Record, error)
	// List returns up to req.Limit records newest first (created_at, then test_id, descending)
	// and whether more follow.
	List(ctx context.Context, req listing.Request) (items []Record, more bool, err error)
	// Delete removes the record with id; owner "" matches any owner.
	Delete(ctx context.Context, id, owner string) error
	// PurgeIdempotencyKeys removes keys created before the given time.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}
