package blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Limits of signed URLs.
const (
	// DefaultExpiry is used when SignOptions.Expiry is 0.
	DefaultExpiry = 15 * time.Minute
	// MaxExpiry is S3's limit for SigV4 presigned URLs, applied to both backends.
	MaxExpiry = 7 * 24 * time.Hour
	// MaxPutSize is the largest object one signed PUT may carry (S3's single-PUT limit).
	MaxPutSize = 5 << 30
)

// SignOptions describe the one request a signed URL allows.
type SignOptions struct {
	// Method is http.MethodGet (download) or http.MethodPut (upload).
	Method string
	// Expiry is how long the URL is valid: 0 means DefaultExpiry; at least 1 s, at most
	// MaxExpiry.
	Expiry time.Duration
	// ContentType, for PUT, is the Content-Type the upload must carry ("" means
	// DefaultContentType) and is stored with the object. For GET, when set, it overrides the
	// response's Content-Type.
	ContentType string
	// ContentLength, for PUT, is the exact size of the body, 0..MaxPutSize. The file backend
	// answers 413 to a longer body and 400 to a shorter one; S3 refuses any other length (403),
	// except that SigV4 does not sign a zero Content-Length, so S3 does not bind the size of an
	// announced-empty upload: check the size on completion (Stat) in any case. Must be 0 for GET.
	ContentLength int64
	// ContentDisposition, for GET, overrides the response's Content-Disposition (for instance
	// `attachment; filename="report.pdf"`, built by the caller from a sanitized name). Must be
	// empty for PUT.
	ContentDisposition string
}

// SignedURL is a pre-authorized request for one object.
type SignedURL struct {
	URL    string
	Method string
	// Header holds the headers the request must carry with exactly these values (for PUT:
	// Content-Type, Content-Length, If-None-Match: *); HTTP clients set Content-Length
	// themselves from the body.
	Header    http.Header
	ExpiresAt time.Time
}

// SignedURL returns a URL that allows one method on the object at key until it expires,
// without further credentials.
//
// For S3 it is a SigV4 presigned URL (the SDK's PresignClient) signed with the bucket's
// credentials; a PUT binds the content type, length (see SignOptions.ContentLength) and
// If-None-Match: *, so it creates the object once and cannot replace it. For a directory it is
// Options.PublicURL + key + "?token=…", served by the handler from SignedHandler, which enforces
// the same.
func (b *Bucket) SignedURL(ctx context.Context, key string, o SignOptions) (SignedURL, error) {
	if err := ValidKey(key); err != nil {
		return SignedURL{}, err
	}
	o, err := checkSignOptions(o)
	if err != nil {
		return SignedURL{}, fmt.Errorf("blob: sign %s %s: %w", o.Method, key, err)
	}
	su, err := b.backend.sign(ctx, key, o, b.now())
	if err != nil {
		return SignedURL{}, fmt.Errorf("blob: sign %s %s: %w", o.Method, key, err)
	}
	return su, nil
}

// checkSignOptions applies the defaults and refuses what no backend should sign.
func checkSignOptions(o SignOptions) (SignOptions, error) {
	if o.Expiry == 0 {
		o.Expiry = DefaultExpiry
	}
	if o.Expiry < time.Second || o.Expiry > MaxExpiry {
		return o, fmt.Errorf("expiry %v outside [1s, %v]", o.Expiry, MaxExpiry)
	}
	o.Expiry = o.Expiry.Truncate(time.Second)
	for _, v := range []string{o.ContentType, o.ContentDisposition} {
		if !headerValueOK(v) {
			return o, fmt.Errorf("header value %q has control characters or is too long", v)
		}
	}
	switch o.Method {
	case http.MethodPut:
		ct, err := normalizeContentType(o.ContentType)
		if err != nil {
			return o, err
		}
		o.ContentType = ct
		if o.ContentLength < 0 || o.ContentLength > MaxPutSize {
			return o, fmt.Errorf("content length %d outside [0, %d]", o.ContentLength, int64(MaxPutSize))
		}
		if o.ContentDisposition != "" {
			return o, errors.New("ContentDisposition applies to GET only")
		}
	case http.MethodGet:
		if o.ContentType != "" {
			ct, err := normalizeContentType(o.ContentType)
			if err != nil {
				return o, err
			}
			o.ContentType = ct
		}
		if o.ContentLength != 0 {
			return o, errors.New("ContentLength applies to PUT only")
		}
	default:
		return o, fmt.Errorf("method %q cannot be signed (GET or PUT)", o.Method)
	}
	return o, nil
}

// headerValueOK refuses control characters (header injection) and absurd lengths.
func headerValueOK(v string) bool {
	if len(v) > 1024 {
		return false
	}
	return !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
}
