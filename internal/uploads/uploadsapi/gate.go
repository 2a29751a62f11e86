package uploadsapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/uploads"
)

// admitPut is the directory store's PutGate: a signed PUT writes only to an upload that still
// exists — not deleted by its owner, not reaped after its URL expired. It is asked before the
// body is read and again once the object is stored (the upload may have been deleted in
// between); an object whose upload is gone is removed then, so a deleted upload's URL leaves
// nothing. On S3 the presigned URL never reaches us: there the tombstone that Delete leaves and
// the reaper take the late object away after the URL's expiry.
func (h *Handler) admitPut(ctx context.Context, key string) error {
	id := key[strings.LastIndexByte(key, '/')+1:]
	u, err := h.Store.Get(ctx, id, "")
	switch {
	case errors.Is(err, decagon.ErrNotFound):
		return decagon.Wrap(decagon.EForbidden, err, "the upload this URL was signed for has been deleted or has expired; presign a new one")
	case err != nil:
		return fmt.Errorf("check upload %s: %w", id, err)
	case uploads.ObjectKey(u.Owner, u.ID) != key:
		// A signed key that is not where its upload's bytes belong: nothing we signed.
		return decagon.Errorf(decagon.EForbidden, "the upload this URL was signed for has been deleted or has expired; presign a new one")
	}
	// Pending before the write; pending or (completed meanwhile) available after it.
	return nil
}

// ReapLoop removes abandoned and deleted presigned uploads with their objects every interval
// until ctx is done (see uploads.Reaper); start it once per replica, in the background.
func (h *Handler) ReapLoop(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	r := &uploads.Reaper{Store: h.Store, Objects: h.Blobs, Now: h.now, Logger: logger}
	r.Run(ctx, interval)
}
