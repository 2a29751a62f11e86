// Package uploads is the seed's second service ("test2"): documents behind /upload, kept in the
// object store (S3, or a local directory) with their metadata in the SQL store. Small files come
// straight through the API; large ones go straight to the store with a presigned PUT.
package uploads

import (
	"context"
	"time"

	"github.com/decagon/decagon/internal/page"
)

// Upload statuses.
const (
	// StatusPending: announced by a presign, bytes not yet confirmed; not downloadable.
	StatusPending = "pending"
	// StatusAvailable: the object is stored with the recorded size and SHA-256.
	StatusAvailable = "available"
)

// Upload is one document's metadata.
type Upload struct {
	ID          string    `json:"upload_id"`
	Owner       string    `json:"owner"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256,omitempty"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
}

// Page asks for one page of a listing, newest first.
type Page struct {
	// Owner filters by owner; "" means every owner (admins only).
	Owner string
	Limit int
	After page.Position
}

// Store keeps upload metadata. Every backend returns problem.ErrNotFound for a missing row or
// one of another owner (owner "" matches any owner).
type Store interface {
	// Create stores u durably before returning.
	Create(ctx context.Context, u Upload) error
	Get(ctx context.Context, id, owner string) (Upload, error)
	// List returns up to p.Limit uploads newest first (created_at, then upload_id, descending)
	// and whether more follow.
	List(ctx context.Context, p Page) (items []Upload, more bool, err error)
	// Complete marks a pending upload available with its final content type, size and SHA-256,
	// and returns it. Completing an available upload returns it unchanged.
	Complete(ctx context.Context, id, owner, contentType string, size int64, sha256 string) (Upload, error)
	// Delete removes the row.
	Delete(ctx context.Context, id, owner string) error
}
