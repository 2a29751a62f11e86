package blobtest

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/blob"
)

// testOutage (issue 11 item 4 and the fault suite): while the store fails — S3 endpoint down,
// directory disk full — every write fails with the code a client can act on (EUnavailable:
// 503 and retry; EInsufficientStorage: 507), whatever the object's size, and leaves nothing
// half-written: no object, no temporary file, no multipart upload. The file backend's signed
// PUT answers the same as a problem. Once the outage ends, writes succeed again.
func testOutage(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	if tg.Outage == nil {
		t.Skip("this target cannot simulate an outage")
	}
	pre := tg.Residue(t)
	kind, end := tg.Outage(t)
	want, status := decagon.EUnavailable, http.StatusServiceUnavailable
	during := pre
	if kind == OutageFull {
		want, status = decagon.EInsufficientStorage, http.StatusInsufficientStorage
		during = tg.Residue(t) // the filled tmpfs
	}
	for _, c := range []struct {
		name string
		size int64
	}{{"small", 300 << 10}, {"multipart", bigSize}} {
		_, err := tg.Bucket.Put(ctxT(t), "uploads/outage/"+c.name, NewStream(1, c.size), blob.PutOptions{MaxSize: 64 * mib})
		if code := decagon.ErrorCode(err); code != want {
			t.Errorf("Put %s during %s outage: err = %v (code %q), want code %q", c.name, kind, err, code, want)
		}
	}
	if kind == OutageDown {
		_, err := tg.Bucket.Stat(ctxT(t), "uploads/outage/small")
		if code := decagon.ErrorCode(err); code != want || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat during %s outage: err = %v, want code %q (not a 404)", kind, err, want)
		}
		_, err = tg.Bucket.NewReader(ctxT(t), "uploads/outage/small")
		if code := decagon.ErrorCode(err); code != want {
			t.Errorf("NewReader during %s outage: err = %v, want code %q", kind, err, want)
		}
	} else {
		// The signed PUT is the file backend's own handler; S3 serves its own URLs.
		su := sign(t, tg.Bucket, "uploads/outage/signed", blob.SignOptions{Method: http.MethodPut, ContentLength: 300 << 10})
		st, h, _, _ := Do(t, su, NewStream(2, 300<<10), 300<<10)
		if st != status || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("signed PUT during %s outage: %d %q, want a %d problem", kind, st, h.Get("Content-Type"), status)
		}
		if got := tg.Residue(t); !slices.Equal(got, during) {
			t.Errorf("residue during %s outage: %v, want %v", kind, got, during)
		}
	}
	end()
	if got := tg.Residue(t); !slices.Equal(got, pre) {
		t.Errorf("residue after %s outage: %v, before it %v", kind, got, pre)
	}
	src := NewStream(3, 300<<10)
	if _, err := tg.Bucket.Put(ctxT(t), "uploads/outage/after", src, blob.PutOptions{}); err != nil {
		t.Fatalf("Put after the outage: %v", err)
	}
	checkObject(t, tg.Bucket, "uploads/outage/after", 300<<10, src.Sum(), blob.DefaultContentType)
}
