package uploadsapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob/blobtest"
	"github.com/decagon/decagon/internal/store/sqlite"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/uploads/uploadsapi"
	"github.com/decagon/decagon/internal/web"
)

// testClock is a clock a test moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// service is the uploads API over h (Store set here, on SQLite in memory), the caller named by
// X-Test-User.
type service struct {
	srv   *httptest.Server
	h     *uploadsapi.Handler
	store uploads.Store
}

func newService(t *testing.T, target blobtest.Target, h *uploadsapi.Handler) service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Store, h.Blobs = db.Uploads(), target.Bucket
	rt := &web.Router{}
	for p, handler := range h.Routes() {
		rt.Handle(p, handler)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-Test-User"); u != "" {
			r = r.WithContext(auth.WithClaims(r.Context(), &auth.Claims{Subject: u}))
		}
		rt.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	if target.Route != nil {
		// The directory store's signed URLs are served by the uploads service, as in production.
		target.Route(handler)
	}
	return service{srv: srv, h: h, store: db.Uploads()}
}

// presigned is a presign's answer.
type presigned struct {
	id, url string
	headers map[string]string
}

func presign(t *testing.T, s service, size int) presigned {
	t.Helper()
	r := call(t, "POST", s.srv.URL+"/upload/presign", "alice", "application/json",
		strings.NewReader(`{"filename":"a.bin","content_type":"application/octet-stream","size":`+itoa(size)+`}`), nil)
	if r.status != 201 {
		t.Fatalf("presign: %d %s", r.status, r.body)
	}
	m := decode(t, r.body)
	p := presigned{id: m["upload_id"].(string), url: m["url"].(string), headers: map[string]string{}}
	for k, v := range m["headers"].(map[string]any) {
		p.headers[k] = v.(string)
	}
	return p
}

func itoa(n int) string { return strconv.Itoa(n) }

func put(t *testing.T, p presigned, body []byte) reply {
	t.Helper()
	return call(t, "PUT", p.url, "", p.headers["Content-Type"], bytes.NewReader(body), p.headers)
}

// reap runs one reaper pass at now and fails the test on an error.
func reap(t *testing.T, s service, now time.Time) uploads.ReapStats {
	t.Helper()
	r := &uploads.Reaper{Store: s.store, Objects: s.h.Blobs, Now: func() time.Time { return now }}
	st, err := r.Pass(context.Background())
	if err != nil {
		t.Fatalf("reaper pass: %v", err)
	}
	return st
}

// afterGrace is a time when every URL signed now has expired and its grace has passed.
func afterGrace() time.Time {
	return time.Now().Add(15*time.Minute + uploads.DefaultReapGrace + time.Second)
}

// TestDeletedUploadURLRefused (issue 11 item 3): presign, DELETE while pending, then PUT to the
// URL. The directory store refuses the PUT (403, nothing stored); S3 cannot be asked, so its
// object lands — and the reaper removes it, with the tombstone, once the URL has expired. Either
// way no object without a row survives.
func TestDeletedUploadURLRefused(t *testing.T) {
	for name, newTarget := range map[string]func(testing.TB) blobtest.Target{"file": blobtest.NewFile, "s3": blobtest.NewS3} {
		t.Run(name, func(t *testing.T) {
			target := newTarget(t)
			s := newService(t, target, &uploadsapi.Handler{})
			p := presign(t, s, 5)
			if r := call(t, "DELETE", s.srv.URL+"/upload/"+p.id, "alice", "", nil, nil); r.status != 204 {
				t.Fatalf("delete: %d %s", r.status, r.body)
			}
			r := put(t, p, []byte("hello"))
			switch name {
			case "file":
				if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "deleted or has expired") {
					t.Fatalf("PUT after delete: %d %s, want 403", r.status, r.body)
				}
				if res := target.Residue(t); len(res) != 0 {
					t.Fatalf("refused PUT left %v", res)
				}
			case "s3":
				if r.status != 200 {
					t.Fatalf("PUT after delete on S3: %d %s (S3 cannot know)", r.status, r.body)
				}
			}
			if r := call(t, "GET", s.srv.URL+"/upload/"+p.id, "alice", "", nil, nil); r.status != 404 {
				t.Fatalf("GET of a deleted upload: %d", r.status)
			}
			if st := reap(t, s, time.Now()); st.Claimed != 0 {
				t.Fatalf("reaped %+v before the URL expired", st)
			}
			if st := reap(t, s, afterGrace()); st.Claimed != 1 || st.Removed != 1 {
				t.Fatalf("reaper after expiry: %+v, want the tombstone", st)
			}
			if res := target.Residue(t); len(res) != 0 {
				t.Fatalf("after the reaper: %v, want nothing", res)
			}
			if left, err := s.store.ClaimExpired(context.Background(), afterGrace().Add(time.Hour), 10); err != nil || len(left) != 0 {
				t.Fatalf("rows left: %v, %v", left, err)
			}
		})
	}
}

// TestDeleteWhilePutStreams: the directory store's PUT started before the DELETE and finishing
// after it is refused at the end and its object removed (the gate's second question).
func TestDeleteWhilePutStreams(t *testing.T) {
	target := blobtest.NewFile(t)
	s := newService(t, target, &uploadsapi.Handler{})
	const size = 1 << 20
	p := presign(t, s, size)
	pr, pw := io.Pipe()
	done := make(chan reply, 1)
	go func() {
		done <- call(t, "PUT", p.url, "", p.headers["Content-Type"], pr, map[string]string{"If-None-Match": "*", "Content-Length": itoa(size)})
	}()
	if _, err := pw.Write(make([]byte, size/2)); err != nil {
		t.Fatalf("%v: %+v", err, <-done)
	}
	// The temporary file exists once the handler is past the first gate and writing.
	deadline := time.Now().Add(10 * time.Second)
	for len(target.Residue(t)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the PUT never started writing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := call(t, "DELETE", s.srv.URL+"/upload/"+p.id, "alice", "", nil, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, err := pw.Write(make([]byte, size/2)); err != nil {
		t.Fatalf("%v: %+v", err, <-done)
	}
	pw.Close()
	if r := <-done; r.status != http.StatusForbidden {
		t.Fatalf("PUT that outlived its upload: %d %s, want 403", r.status, r.body)
	}
	if res := target.Residue(t); len(res) != 0 {
		t.Fatalf("object of a deleted upload left: %v", res)
	}
}

// TestAbandonedUploadsReaped (issue 11 item 3): presigned uploads never completed — with or
// without their bytes PUT — are removed with their objects after their URL expires (plus the
// grace), by the handler's reap loop on an injected clock; a completed one and a direct one stay.
func TestAbandonedUploadsReaped(t *testing.T) {
	for name, newTarget := range map[string]func(testing.TB) blobtest.Target{"file": blobtest.NewFile, "s3": blobtest.NewS3} {
		t.Run(name, func(t *testing.T) {
			target := newTarget(t)
			clock := &testClock{now: time.Now()}
			s := newService(t, target, &uploadsapi.Handler{Now: clock.Now})
			written := presign(t, s, 5) // bytes PUT, never completed
			if r := put(t, written, []byte("hello")); r.status != 200 {
				t.Fatalf("PUT: %d %s", r.status, r.body)
			}
			presign(t, s, 5) // nothing ever PUT
			kept := presign(t, s, 5)
			if r := put(t, kept, []byte("keep!")); r.status != 200 {
				t.Fatalf("PUT: %d %s", r.status, r.body)
			}
			if r := call(t, "POST", s.srv.URL+"/upload/"+kept.id+"/complete", "alice", "", nil, nil); r.status != 200 {
				t.Fatalf("complete: %d %s", r.status, r.body)
			}
			direct := call(t, "POST", s.srv.URL+"/upload?filename=d.txt", "alice", "text/plain", strings.NewReader("direct"), nil)
			if direct.status != 201 {
				t.Fatalf("direct upload: %d %s", direct.status, direct.body)
			}
			before := target.Residue(t)

			// The URLs expire; the loop's first pass runs at once, at the injected time.
			clock.Advance(15*time.Minute + uploads.DefaultReapGrace + time.Second)
			var logs syncBuffer
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { s.h.ReapLoop(ctx, time.Hour, slog.New(slog.NewTextHandler(&logs, nil))); close(stopped) }()
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(logs.String(), "claimed=2 removed=2") {
				if time.Now().After(deadline) {
					t.Fatalf("the reap loop logged no pass removing the two abandoned uploads: %q", logs.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			<-stopped // the loop stops with its context

			list := decode(t, call(t, "GET", s.srv.URL+"/upload", "alice", "", nil, nil).body)
			if items := list["items"].([]any); len(items) != 2 {
				t.Fatalf("uploads left: %v, want the completed and the direct one", items)
			}
			if r := call(t, "GET", s.srv.URL+"/upload/"+written.id, "alice", "", nil, nil); r.status != 404 {
				t.Fatalf("abandoned upload: %d, want 404", r.status)
			}
			res := target.Residue(t)
			for _, r := range res {
				if strings.Contains(r, written.id) {
					t.Fatalf("the abandoned upload's object is left: %v", res)
				}
			}
			// The object, and on the file store its sidecar unless it has the default type.
			gone := 0
			for _, r := range before {
				if strings.Contains(r, written.id) {
					gone++
				}
			}
			if gone == 0 || len(res) != len(before)-gone {
				t.Fatalf("residue %v, before %v: want the abandoned upload's entries gone, the rest kept", res, before)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test polling it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestPresignSizeCap (issue 11 item 3): the presign cap is the handler's MaxPresignedSize
// (default 5 GiB, never above it); a larger size is a 400 problem naming the cap.
func TestPresignSizeCap(t *testing.T) {
	const gib = 1 << 30
	target := blobtest.NewFile(t)
	for _, c := range []struct {
		name   string
		max    int64
		size   int64
		status int
	}{
		{"default, 5 GiB", 0, 5 * gib, 201},
		{"default, 5 GiB + 1", 0, 5*gib + 1, 400},
		{"1 MiB cap, at it", 1 << 20, 1 << 20, 201},
		{"1 MiB cap, one over", 1 << 20, 1<<20 + 1, 400},
		{"cap above S3's limit is held to it", 10 * gib, 5*gib + 1, 400},
		{"negative size", 0, -1, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newService(t, target, &uploadsapi.Handler{MaxPresignedSize: c.max})
			r := call(t, "POST", s.srv.URL+"/upload/presign", "alice", "application/json",
				strings.NewReader(`{"filename":"a","content_type":"application/pdf","size":`+itoa64(c.size)+`}`), nil)
			if r.status != c.status {
				t.Fatalf("presign of %d bytes with cap %d: %d %s, want %d", c.size, c.max, r.status, r.body, c.status)
			}
			if c.status == 400 && c.size > 0 {
				cap := c.max
				if cap == 0 || cap > 5*gib {
					cap = 5 * gib
				}
				if p := decode(t, r.body); !strings.Contains(p["detail"].(string), itoa64(cap)) || r.header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("problem %v does not name the cap %d", p, cap)
				}
			}
		})
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
