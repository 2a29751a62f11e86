package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/decagon/decagon"
)

// TestClassify (issue 11 item 4): store failures a client can retry are EUnavailable, a full
// disk EInsufficientStorage; what is the client's or the caller's keeps its own meaning.
func TestClassify(t *testing.T) {
	s3Status := func(code int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("api error")}
	}
	for _, c := range []struct {
		name string
		err  error
		want decagon.Code
	}{
		{"disk full", &fs.PathError{Op: "write", Path: "/d/x.tmp", Err: syscall.ENOSPC}, decagon.EInsufficientStorage},
		{"quota", fmt.Errorf("fsync: %w", &fs.PathError{Op: "sync", Path: "/d", Err: syscall.EDQUOT}), decagon.EInsufficientStorage},
		{"I/O error", &fs.PathError{Op: "write", Path: "/d/x.tmp", Err: syscall.EIO}, decagon.EUnavailable},
		{"read-only file system", &fs.PathError{Op: "open", Path: "/d/x.tmp", Err: syscall.EROFS}, decagon.EUnavailable},
		{"too many open files", syscall.EMFILE, decagon.EUnavailable},
		{"connection refused", &url.Error{Op: "Put", URL: "http://s3", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, decagon.EUnavailable},
		{"S3 503 slow down", s3Status(503), decagon.EUnavailable},
		{"S3 500", s3Status(500), decagon.EUnavailable},
		{"S3 429", s3Status(429), decagon.EUnavailable},
		{"store's own timeout", context.DeadlineExceeded, decagon.EUnavailable},
		{"S3 403", s3Status(403), decagon.EInternal},
		{"not found", fmt.Errorf("%w: x", ErrNotFound), decagon.ENotFound},
		{"too large", ErrTooLarge, decagon.EInternal},
		{"exists", ErrExists, decagon.EInternal},
		{"caller cancelled", context.Canceled, decagon.EInternal},
		{"client's body broke", &sourceError{&net.OpError{Op: "read", Err: syscall.ECONNRESET}}, decagon.EInternal},
		{"already classified", decagon.Errorf(decagon.EForbidden, "no"), decagon.EForbidden},
		{"anything else", errors.New("bug"), decagon.EInternal},
	} {
		got := classify(c.err)
		if code := decagon.ErrorCode(got); code != c.want {
			t.Errorf("%s: code %q, want %q (%v)", c.name, code, c.want, got)
		}
		if !errors.Is(got, c.err) {
			t.Errorf("%s: the original error is not in the chain of %v", c.name, got)
		}
	}
}
