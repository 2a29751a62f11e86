// Package blob is decagon's object store: one Bucket type over two backends, an S3 bucket (or
// any S3-compatible endpoint) and a local directory, with signed URLs on both.
//
// Open takes a URL:
//
//	s3://BUCKET?region=R[&endpoint=http://host:port][&use_path_style=true]
//	file:///ABSOLUTE/DIR
//
// Object operations go through gocloud.dev/blob (s3blob, fileblob). Signed URLs for S3 are real
// SigV4 presigned URLs from the AWS SDK's s3.PresignClient; the file backend has no server of its
// own, so its URLs point at Options.PublicURL and carry an HMAC-SHA256 token (URLSigner) that the
// handler from Bucket.SignedHandler checks before it streams the object out or in.
//
// Guarantees both backends keep (the conformance suite in blobtest checks each):
//   - Put streams: memory use does not grow with the object's size.
//   - A Put that fails — limit exceeded (ErrTooLarge), source read error, context cancelled —
//     leaves no object behind, and a Put that returns nil is durable (file backend: the data,
//     its sidecar — objects of DefaultContentType have none — and the directory entries are
//     fsynced before Put returns).
//   - Delete is idempotent: deleting a missing key returns nil.
//   - A signed PUT is bound to its key, content type, exact length (see SignOptions) and expiry,
//     and creates the object at most once. On the file backend the key's owner can also refuse
//     a genuine one (PutGate), before and after the write.
//   - A store failure a client can retry (an I/O error of the directory's disk, S3 unreachable
//     or answering 5xx/429, the store's own timeout) carries decagon.EUnavailable, a full disk
//     decagon.EInsufficientStorage; the signed handler answers them 503 with Retry-After and
//     507, never 500 (errors.go). The conformance suite's Outage case checks both backends.
package blob

import (
	"errors"
	"fmt"

	"github.com/decagon/decagon"
)

// Errors a Bucket returns for both backends alike (wrapped with context; compare with errors.Is).
var (
	// ErrNotFound means there is no object at the key. It wraps decagon.ErrNotFound, so an
	// unhandled one becomes a 404.
	ErrNotFound = fmt.Errorf("blob: object %w", decagon.ErrNotFound)
	// ErrTooLarge means the source had more bytes than PutOptions.MaxSize; nothing was stored.
	ErrTooLarge = errors.New("blob: object larger than the limit")
	// ErrExists means PutOptions.IfNotExist was set and the key already holds an object.
	ErrExists = errors.New("blob: object already exists")
	// ErrInvalidKey means the key failed ValidKey.
	ErrInvalidKey = errors.New("blob: invalid key")
)

// Errors from URLSigner.Verify, one per reason a file-backend signed URL is refused.
var (
	// ErrURLMalformed means the URL carries no token, or one that cannot be decoded.
	ErrURLMalformed = errors.New("blob: malformed signed URL")
	// ErrURLSignature means the token's signature does not match: forged or tampered with.
	ErrURLSignature = errors.New("blob: signed URL signature mismatch")
	// ErrURLExpired means the token was genuine but its expiry has passed.
	ErrURLExpired = errors.New("blob: signed URL expired")
	// ErrURLMethod means the token was signed for another HTTP method.
	ErrURLMethod = errors.New("blob: signed URL is for another method")
	// ErrURLKey means the token was signed for another object key.
	ErrURLKey = errors.New("blob: signed URL is for another key")
)
