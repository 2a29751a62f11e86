package contract

import (
	"fmt"
	"time"

	"github.com/decagon/decagon/internal/uploads"
)

// Upload validates u and returns it as every backend stores it: canonical id, CreatedAt (and
// ExpiresAt, which a pending upload must have) in UTC to the microsecond (CreatedAt defaulting
// to now). Text a client chose (filename, content type) or that
// names the caller (owner) must be storable, else decagon.EUnprocessable; a pending upload has no SHA-256
// yet and an available one has a well-formed one (both come from the service, so a breach is a
// plain error).
func Upload(u uploads.Upload) (uploads.Upload, error) {
	id, ok := ID(u.ID)
	if !ok {
		return uploads.Upload{}, fmt.Errorf("upload_id %q is not a UUID", u.ID)
	}
	u.ID = id
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	u.CreatedAt = Time(u.CreatedAt)
	if u.CreatedAt.Before(minTime) || u.CreatedAt.After(maxTime) {
		return uploads.Upload{}, Invalid("time %s is outside years 1..9999", u.CreatedAt.Format(time.RFC3339Nano))
	}
	if !u.ExpiresAt.IsZero() {
		u.ExpiresAt = Time(u.ExpiresAt)
		if u.ExpiresAt.Before(minTime) || u.ExpiresAt.After(maxTime) {
			return uploads.Upload{}, Invalid("time %s is outside years 1..9999", u.ExpiresAt.Format(time.RFC3339Nano))
		}
	}
	for _, f := range []struct{ name, value string }{
		{"owner", u.Owner}, {"filename", u.Filename}, {"content type", u.ContentType},
	} {
		if err := Text(f.name, f.value); err != nil {
			return uploads.Upload{}, err
		}
	}
	if u.Size < 0 {
		return uploads.Upload{}, Invalid("size %d is negative", u.Size)
	}
	switch u.Status {
	case uploads.StatusPending:
		if u.SHA256 != "" {
			return uploads.Upload{}, fmt.Errorf("upload %s: a pending upload has no sha256 yet", u.ID)
		}
		if u.ExpiresAt.IsZero() {
			// Without it the reaper could never remove the upload if it is abandoned.
			return uploads.Upload{}, fmt.Errorf("upload %s: a pending upload needs its URL's expiry", u.ID)
		}
	case uploads.StatusAvailable:
		if err := SHA256(u.SHA256); err != nil {
			return uploads.Upload{}, fmt.Errorf("upload %s: %w", u.ID, err)
		}
	default:
		return uploads.Upload{}, fmt.Errorf("upload %s: status %q is neither %q nor %q", u.ID, u.Status, uploads.StatusPending, uploads.StatusAvailable)
	}
	return u, nil
}

// Completion validates what Complete records: a storable content type (else decagon.EUnprocessable), a
// size of at least 0 and a well-formed SHA-256.
func Completion(contentType string, size int64, sha256 string) error {
	if err := Text("content type", contentType); err != nil {
		return err
	}
	if size < 0 {
		return Invalid("size %d is negative", size)
	}
	return SHA256(sha256)
}

// SHA256 checks that s is a SHA-256 as the service writes it: 64 lower-case hex digits.
func SHA256(s string) error {
	if len(s) != 64 {
		return fmt.Errorf("sha256 %q is not 64 hex digits", s)
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("sha256 %q is not lower-case hex", s)
		}
	}
	return nil
}

// MaxReapBatch bounds ClaimExpired's limit.
const MaxReapBatch = 1000

// ReapLimit checks a ClaimExpired limit: 1 to MaxReapBatch.
func ReapLimit(limit int) error {
	if limit < 1 || limit > MaxReapBatch {
		return fmt.Errorf("reap batch %d outside 1..%d", limit, MaxReapBatch)
	}
	return nil
}
