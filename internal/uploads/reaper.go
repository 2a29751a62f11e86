package uploads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/decagon/decagon"
)

// Reaper defaults.
const (
	// DefaultReapGrace is how long after a presigned URL's expiry its upload is reaped. A PUT
	// that started just before the expiry may still be streaming (S3 checks the signature when
	// the request starts); the grace covers a 5 GiB PUT at a little over 1.5 MB/s.
	DefaultReapGrace = time.Hour
	// DefaultReapBatch bounds the uploads one pass removes, so a backlog is worked off over
	// several passes instead of one long one.
	DefaultReapBatch = 100
	// objectTimeout bounds the removal of one object.
	objectTimeout = 30 * time.Second
)

// Objects is what the reaper needs of the object store. Deleting a missing object must return
// nil (blob.Bucket's Delete does).
type Objects interface {
	Delete(ctx context.Context, key string) error
}

// Reaper removes the uploads nobody will complete, with their objects: pending uploads whose
// URL expired (abandoned), and the tombstones Delete leaves for presigned uploads (an object
// PUT to the URL after the delete). For each it claims the row (ClaimExpired), then removes
// the object, then the row (Purge): a crash in between leaves a claimed row, which the next
// pass takes again, never an object without a row.
type Reaper struct {
	Store   Store
	Objects Objects
	// Grace is added to a URL's expiry before its upload is reaped; 0 means DefaultReapGrace.
	Grace time.Duration
	// Batch bounds the uploads removed per pass; 0 means DefaultReapBatch.
	Batch int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per pass that removed something or failed; nil means
	// slog.Default().
	Logger *slog.Logger
}

// ReapStats count what one pass did.
type ReapStats struct {
	// Claimed is how many expired uploads the pass took.
	Claimed int
	// Removed is how many of them are gone, object and row.
	Removed int
}

// Pass removes up to Batch expired uploads and returns what it did. An error on one upload
// does not stop the others; the first is returned after the pass, and the upload is left
// claimed for the next.
func (r *Reaper) Pass(ctx context.Context) (ReapStats, error) {
	var st ReapStats
	before := r.now().Add(-r.grace())
	items, err := r.Store.ClaimExpired(ctx, before, r.batch())
	if err != nil {
		return st, fmt.Errorf("reap uploads: claim: %w", err)
	}
	st.Claimed = len(items)
	var errs []error
	for _, u := range items {
		// Each removal gets its own deadline: the loop's context lives as long as the service,
		// and a store that hangs must not stop the reaper for good.
		octx, cancel := context.WithTimeout(ctx, objectTimeout)
		err := r.Objects.Delete(octx, ObjectKey(u.Owner, u.ID))
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("reap upload %s: delete object: %w", u.ID, err))
			continue
		}
		// Not found: another replica's reaper purged it first.
		if err := r.Store.Purge(ctx, u.ID); err != nil && !errors.Is(err, decagon.ErrNotFound) {
			errs = append(errs, fmt.Errorf("reap upload %s: purge: %w", u.ID, err))
			continue
		}
		st.Removed++
	}
	if len(errs) > 0 {
		return st, errs[0]
	}
	return st, nil
}

// Run calls Pass every interval until ctx is done, and once at once. A pass that filled its
// batch is followed by another straight away, so a backlog drains without waiting for the
// ticker; each pass that did something or failed is logged with its counts.
func (r *Reaper) Run(ctx context.Context, interval time.Duration) {
	logger := r.Logger
	if logger == nil {
		logger = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			st, err := r.Pass(ctx)
			if err != nil && ctx.Err() == nil {
				logger.Warn("uploads: reap pass failed", "claimed", st.Claimed, "removed", st.Removed, "err", err)
				break
			}
			if st.Claimed > 0 {
				logger.Info("uploads: reaped expired uploads", "claimed", st.Claimed, "removed", st.Removed)
			}
			if st.Claimed < r.batch() {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Reaper) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reaper) grace() time.Duration {
	if r.Grace > 0 {
		return r.Grace
	}
	return DefaultReapGrace
}

func (r *Reaper) batch() int {
	if r.Batch > 0 {
		return r.Batch
	}
	return DefaultReapBatch
}
