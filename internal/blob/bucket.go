package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/decagon/decagon"
)

// DefaultContentType is stored for objects written without a content type.
const DefaultContentType = "application/octet-stream"

// Bucket is an object store: an S3 bucket or a local directory. Open returns one; it is safe for
// concurrent use. Every method validates its key (ValidKey) before any I/O.
type Bucket struct {
	bucket  *gcblob.Bucket
	backend backend
	logger  *slog.Logger
	now     func() time.Time
	// puts, when not nil, holds a token for each Put in progress: a Put waits for a free one
	// (or its context's end) before it takes any memory (s3MaxPuts).
	puts chan struct{}
}

// backend is what differs between S3 and the directory; everything else goes through gocloud.
type backend interface {
	// prepareWrite adjusts the options of one write and returns its hooks.
	prepareWrite(key string, opts *gcblob.WriterOptions) writeHooks
	sign(ctx context.Context, key string, o SignOptions, now time.Time) (SignedURL, error)
	ping(ctx context.Context) error
	// maxStream is the largest object the backend can take from a stream (0: no limit) and
	// why, for the error past it.
	maxStream() (int64, string)
	signedHandler(b *Bucket, prefix string, gate PutGate) http.Handler
	String() string
}

// writeHooks run around the gocloud writer's Close of one write; nil ones are skipped.
type writeHooks struct {
	// beforeClose runs right before Close when everything was copied; an error aborts the write.
	beforeClose func() error
	// afterClose runs after a successful Close; an error removes the object again.
	afterClose func() error
	// failedClose runs after beforeClose succeeded and Close then failed, to undo beforeClose.
	failedClose func() error
	// aborted runs when the write is abandoned before Close succeeds or is attempted (a copy or
	// beforeClose error), to remove what the hooks made.
	aborted func()
}

// Attrs describe a stored object.
type Attrs struct {
	Size        int64
	ContentType string
	ModTime     time.Time
}

// PutOptions describe an object being written.
type PutOptions struct {
	// ContentType is stored with the object and served with it; "" stores DefaultContentType.
	ContentType string
	// MaxSize > 0 bounds the object: a source with more bytes fails with ErrTooLarge and
	// nothing is stored. 0 means no bound; negative is an error.
	MaxSize int64
	// IfNotExist refuses to replace an existing object (ErrExists). On the file backend the
	// check and the rename are not one atomic step; keys that are unique per upload make the
	// window moot.
	IfNotExist bool
}

// copyBufSize is the chunk Put reads from its source: large enough that a 1 GiB write is a few
// thousand syscalls, small enough to be irrelevant to memory.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Put streams r into the object at key and returns the number of bytes stored. Memory does not
// grow with the object: the file backend streams through one 256 KiB buffer. S3 needs each
// request's length up front, so the S3 backend holds an object under 16 MiB whole (one
// PutObject) and cuts larger ones into 8 MiB parts, about 40 MiB at most per Put whatever the
// object's size; it streams at most 10,000 parts (78 GiB) and fails past that with ErrTooLarge
// (see s3.go).
//
// When Put returns an error — ErrTooLarge, an error reading r, ctx cancelled, a store error —
// no object was created (an existing object at key is left as it was). When it returns nil the
// object is durable. A store error a client can retry carries decagon.EUnavailable, a full
// disk decagon.EInsufficientStorage (see classify).
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, o PutOptions) (_ int64, err error) {
	defer func() { err = classify(err) }()
	if err := ValidKey(key); err != nil {
		return 0, err
	}
	if o.MaxSize < 0 {
		return 0, fmt.Errorf("blob: put %s: negative MaxSize %d", key, o.MaxSize)
	}
	ct, err := normalizeContentType(o.ContentType)
	if err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if b.puts != nil {
		select {
		case b.puts <- struct{}{}:
			defer func() { <-b.puts }()
		case <-ctx.Done():
			// A request that cannot wait longer is told to come back (503 with Retry-After), not
			// that something broke; a client that went away gets nothing either way.
			return 0, decagon.Wrap(decagon.EUnavailable, fmt.Errorf("blob: put %s: %w", key, ctx.Err()),
				fmt.Sprintf("the %d uploads this task streams at once are all in progress; retry later", cap(b.puts)))
		}
	}
	// Cancelling wctx before Close is gocloud's documented way to abort a write: fileblob then
	// removes its temporary file, s3blob never completes the upload.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := &gcblob.WriterOptions{ContentType: ct, IfNotExist: o.IfNotExist}
	hooks := b.backend.prepareWrite(key, opts)
	w, err := b.bucket.NewWriter(wctx, key, opts)
	if err != nil {
		if hooks.aborted != nil {
			hooks.aborted()
		}
		return 0, fmt.Errorf("blob: put %s: %w", key, mapError(err))
	}
	limit, why := o.MaxSize, ""
	if m, reason := b.backend.maxStream(); m > 0 && (limit == 0 || limit > m) {
		limit, why = m, reason
	}
	n, err := copyLimited(wctx, w, r, limit)
	if errors.Is(err, ErrTooLarge) && why != "" {
		err = fmt.Errorf("%w: %s (%d bytes)", err, why, limit)
	}
	if err == nil && hooks.beforeClose != nil {
		err = hooks.beforeClose()
	}
	if err != nil {
		cancel()
		if cerr := w.Close(); cerr == nil {
			// Cannot happen with a cancelled context; if it ever does, an object may exist.
			b.logger.Error("blob: aborted write closed without error", "key", key, "backend", b.backend.String())
		}
		if hooks.aborted != nil {
			hooks.aborted()
		}
		return n, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		if hooks.failedClose != nil {
			if ferr := hooks.failedClose(); ferr != nil {
				b.logger.Error("blob: undo after failed close", "key", key, "backend", b.backend.String(), "err", ferr)
			}
		}
		return n, fmt.Errorf("blob: put %s: %w", key, mapError(err))
	}
	if hooks.afterClose != nil {
		if err := hooks.afterClose(); err != nil {
			// The object is in place but not known durable: take it out again rather than
			// acknowledge it, so that "error" keeps meaning "no object".
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer dcancel()
			if derr := b.bucket.Delete(dctx, key); derr != nil {
				b.logger.Error("blob: remove object after failed fsync", "key", key, "err", derr)
			}
			return n, fmt.Errorf("blob: put %s: %w", key, err)
		}
	}
	return n, nil
}

// copyLimited copies src to dst and fails with ErrTooLarge, before writing it, on the first
// chunk that would take the total past limit (when limit > 0).
func copyLimited(ctx context.Context, dst io.Writer, src io.Reader, limit int64) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		nr, rerr := src.Read(buf)
		if nr > 0 {
			if limit > 0 && total+int64(nr) > limit {
				return total, ErrTooLarge
			}
			nw, werr := dst.Write(buf[:nr])
			total += int64(nw)
			if werr != nil {
				return total, fmt.Errorf("write: %w", mapError(werr))
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, &sourceError{rerr}
		}
	}
}

// Reader streams one object. Close it when done.
type Reader struct {
	r *gcblob.Reader
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) { return r.r.Read(p) }

// WriteTo implements io.WriterTo, so io.Copy avoids an extra buffer.
func (r *Reader) WriteTo(w io.Writer) (int64, error) { return r.r.WriteTo(w) }

// Close releases the reader.
func (r *Reader) Close() error { return r.r.Close() }

// Attrs returns the object's size, content type and modification time.
func (r *Reader) Attrs() Attrs {
	return Attrs{Size: r.r.Size(), ContentType: r.r.ContentType(), ModTime: r.r.ModTime()}
}

// NewReader opens the object at key for streaming; ErrNotFound if there is none. ctx bounds the
// whole read, not only the call.
func (b *Bucket) NewReader(ctx context.Context, key string) (*Reader, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	r, err := b.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("blob: read %s: %w", key, mapError(err))
	}
	return &Reader{r: r}, nil
}

// Stat returns the attributes of the object at key; ErrNotFound if there is none.
func (b *Bucket) Stat(ctx context.Context, key string) (Attrs, error) {
	if err := ValidKey(key); err != nil {
		return Attrs{}, err
	}
	a, err := b.bucket.Attributes(ctx, key)
	if err != nil {
		return Attrs{}, fmt.Errorf("blob: stat %s: %w", key, mapError(err))
	}
	return Attrs{Size: a.Size, ContentType: a.ContentType, ModTime: a.ModTime}, nil
}

// Delete removes the object at key. Deleting a missing object is not an error: Delete returns
// nil, so a retried DELETE and a cleanup after a failed write need no special case.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := b.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("blob: delete %s: %w", key, mapError(err))
	}
	return nil
}

// Ping reports whether the store can serve: for S3 the bucket answers HeadBucket (which needs
// s3:ListBucket on it), for a directory a file can be created and removed in it. It gives
// itself at most 5 s when ctx has no earlier deadline.
func (b *Bucket) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.backend.ping(ctx); err != nil {
		return fmt.Errorf("blob: ping %s: %w", b.backend, err)
	}
	return nil
}

// Close releases the bucket's resources.
func (b *Bucket) Close() error { return b.bucket.Close() }

// String names the backend ("s3://bucket" or "file:///dir") for logs.
func (b *Bucket) String() string { return b.backend.String() }

// mapError turns gocloud's error codes into this package's sentinels, and a store failure
// into its decagon code (classify), keeping the original.
func mapError(err error) error {
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case gcerrors.FailedPrecondition:
		return fmt.Errorf("%w: %w", ErrExists, err)
	}
	return classify(err)
}

// normalizeContentType checks ct is a media type and returns it in canonical form.
func normalizeContentType(ct string) (string, error) {
	if ct == "" {
		return DefaultContentType, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("content type %q: %w", ct, err)
	}
	return mime.FormatMediaType(mt, params), nil
}
