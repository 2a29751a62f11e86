package blob

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"syscall"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/decagon/decagon"
)

// Client messages of the store failures a client can retry.
const (
	msgStoreUnavailable = "the object store is unavailable; retry later"
	msgStoreFull        = "the object store is out of space; retry later or with a smaller file"
)

// sourceError marks an error reading the caller's source (a client's body): it is the
// client's, never the store's, so classify leaves it alone even when it is a network error.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "read source: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// classify gives a store failure the decagon code a client is answered with: a full disk or
// quota is decagon.EInsufficientStorage (507); a failure the client can retry — a file system
// I/O error, a network error reaching S3, a 5xx or throttling answer from S3, a timeout of the
// store's own — is decagon.EUnavailable (503 with Retry-After). Anything else (ErrNotFound,
// ErrTooLarge, ErrExists, ErrInvalidKey, the caller's cancellation, a source error) is
// returned as it is. The original error stays in the chain for the log.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var de *decagon.Error
	var se *sourceError
	switch {
	case errors.As(err, &de), errors.As(err, &se),
		errors.Is(err, ErrNotFound), errors.Is(err, ErrTooLarge), errors.Is(err, ErrExists),
		errors.Is(err, ErrInvalidKey), errors.Is(err, errShortBody), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return decagon.Wrap(decagon.EInsufficientStorage, err, msgStoreFull)
	case transient(err):
		return decagon.Wrap(decagon.EUnavailable, err, msgStoreUnavailable)
	}
	return err
}

// transient reports whether err is a store failure that may pass: see classify.
func transient(err error) bool {
	var pathErr *fs.PathError
	var errno syscall.Errno
	var netErr net.Error
	var resp *smithyhttp.ResponseError
	switch {
	case errors.As(err, &pathErr), errors.As(err, &errno):
		// The directory store's disk: an I/O error, too many open files, a read-only or
		// vanished mount. None is the client's doing.
		return true
	case errors.As(err, &netErr):
		return true
	case errors.As(err, &resp):
		code := resp.HTTPStatusCode()
		return code >= 500 || code == 429
	case errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}
