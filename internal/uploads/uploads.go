// Package uploads is the domain of the seed's second service ("test2", served under /upload):
// documents kept in the object store (S3, or a local directory) with their metadata in the SQL
// store. It holds the Upload type and its statuses, the Store interface every backend
// implements, the service's limits, where an upload's bytes live and the rules for file names
// and content types. Small files come straight through the API; large ones go straight to the
// object store with a presigned PUT. The Reaper removes the presigned uploads nobody completed,
// and the tombstones of deleted ones, with their objects, once their URL has expired: no object
// outlives its row. The HTTP adapter is uploadsapi.
//
// It may import the root package decagon, internal/listing and the standard library; never
// net/http (content sniffing is the adapter's), internal/problem, internal/web or internal/blob.
package uploads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/decagon/decagon/internal/listing"
)

// Upload statuses.
const (
	// StatusPending: announced by a presign, bytes not yet confirmed; not downloadable.
	StatusPending = "pending"
	// StatusAvailable: the object is stored with the recorded size and SHA-256.
	StatusAvailable = "available"
)

// Limits of the service.
const (
	// DefaultMaxUpload bounds a direct upload's file (API Gateway's payload limit): larger files
	// go through a presigned PUT.
	DefaultMaxUpload = 10 << 20
	// MaxPresignSize is the largest file a presigned PUT can take (S3's single PUT limit,
	// 5 GiB): no setting goes above it.
	MaxPresignSize = 5 << 30
	// DefaultMaxPresignedSize is the presign cap when the operator sets none.
	DefaultMaxPresignedSize = MaxPresignSize
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
	// ExpiresAt is when the presigned PUT URL of an upload announced by a presign stops
	// working; zero for a direct upload. Until then (and a grace after it) an object may still
	// arrive at the upload's key, so a deleted upload keeps a tombstone row until the reaper
	// has removed the object after this time.
	ExpiresAt time.Time `json:"-"`
}

// Position returns u's place in the newest-first order.
func (u Upload) Position() listing.Position {
	return listing.Position{CreatedAt: u.CreatedAt, ID: u.ID}
}

// ObjectKey is where an upload's bytes live. It never contains user input: the owner is hashed
// and the ID is ours.
func ObjectKey(owner, id string) string {
	sum := sha256.Sum256([]byte(owner))
	return "uploads/" + hex.EncodeToString(sum[:16]) + "/" + id
}

// Store keeps upload metadata. Every backend returns an error matching decagon.ErrNotFound for a
// missing row or one of another owner (owner "" matches any owner), decagon.EUnavailable when
// the database cannot be reached and decagon.EUnprocessable for text it cannot store.
type Store interface {
	// Create stores u durably before returning.
	Create(ctx context.Context, u Upload) error
	Get(ctx context.Context, id, owner string) (Upload, error)
	// List returns up to req.Limit uploads newest first (created_at, then upload_id,
	// descending) and whether more follow.
	List(ctx context.Context, req listing.Request) (items []Upload, more bool, err error)
	// Complete marks a pending upload available with its final content type, size and SHA-256,
	// and returns it. Completing an available upload returns it unchanged.
	Complete(ctx context.Context, id, owner, contentType string, size int64, sha256 string) (Upload, error)
	// Delete removes the upload: a direct upload's row goes at once; a presigned upload's row
	// (ExpiresAt set) becomes a tombstone, invisible to every method but ClaimExpired, because
	// its URL may still write an object that the reaper must remove.
	Delete(ctx context.Context, id, owner string) error
	// ClaimExpired returns up to limit uploads whose URL expired before before and that are
	// either still pending (abandoned: they are tombstoned now, so a racing Complete finds
	// nothing) or already tombstoned, oldest expiry first. The caller removes each one's
	// object, then calls Purge; a claim that is never purged is returned again.
	ClaimExpired(ctx context.Context, before time.Time, limit int) ([]Upload, error)
	// Purge removes the tombstone of upload id; decagon.ErrNotFound when there is none.
	Purge(ctx context.Context, id string) error
}
