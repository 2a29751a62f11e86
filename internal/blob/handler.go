package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/problem"
)

// PutGate lets the owner of the keys refuse a signed PUT whose token is genuine: the uploads
// service refuses one for an upload deleted or reaped since its URL was signed. It is asked
// twice: once the token is verified, before the body is read; and once the object is stored,
// because the upload may have gone while the body streamed in — an error then removes the
// object again, so a refused PUT never leaves one. Its error is answered through problem.From
// (a decagon error's code decides the status; give it a client message).
type PutGate func(ctx context.Context, key string) error

// SignedHandler returns the handler that serves the file backend's signed URLs: mount it so
// that requests for Options.PublicURL + key reach it with r.URL.Path == prefix + key (for
// instance prefix "/upload/_blob/"). It needs no other authentication: the token is the
// authorization.
//
//   - GET streams the object with Content-Length, the stored Content-Type (or the signed
//     override) and the signed Content-Disposition, plus headers that stop a browser from
//     running uploaded content on the API's origin. Range is not supported.
//   - PUT streams the body into the store: the Content-Type must be the signed one (403), the
//     body exactly the signed length (413 if longer, 400 if shorter), and the object must not
//     exist yet (412); gate, when not nil, must admit it before and after (see PutGate). 200 on
//     success; on any failure nothing is stored.
//
// A store failure the client can retry is a 503 with Retry-After, a full disk a 507; never a
// 500. Errors are application/problem+json. For an S3 bucket, whose presigned URLs point at S3,
// the handler answers 404 to everything, so mounting it unconditionally is harmless (S3 cannot
// ask a gate: see the uploads reaper for what replaces it there).
func (b *Bucket) SignedHandler(prefix string, gate PutGate) http.Handler {
	return b.backend.signedHandler(b, prefix, gate)
}

func (f *fileBackend) signedHandler(b *Bucket, prefix string, gate PutGate) http.Handler {
	return &signedHandler{b: b, signer: f.signer, prefix: prefix, gate: gate}
}

type signedHandler struct {
	b      *Bucket
	signer *URLSigner
	prefix string
	gate   PutGate
}

func (h *signedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok || ValidKey(key) != nil {
		writeProblem(w, problem.New(http.StatusNotFound, "no such object"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPut {
		writeProblem(w, problem.New(http.StatusMethodNotAllowed, "signed URLs allow GET or PUT").With("Allow", "GET, PUT"))
		return
	}
	g, err := h.signer.Verify(r.Method, key, r.URL.Query())
	if err != nil {
		writeProblem(w, urlProblem(err))
		return
	}
	if r.Method == http.MethodGet {
		h.get(w, r, key, g)
		return
	}
	h.put(w, r, key, g)
}

func urlProblem(err error) *problem.Problem {
	detail := "signed URL refused"
	switch {
	case errors.Is(err, ErrURLExpired):
		detail = "signed URL expired"
	case errors.Is(err, ErrURLSignature):
		detail = "signed URL signature mismatch"
	case errors.Is(err, ErrURLMethod):
		detail = "signed URL is for another method"
	case errors.Is(err, ErrURLKey):
		detail = "signed URL is for another object"
	case errors.Is(err, ErrURLMalformed):
		detail = "signed URL malformed"
	}
	p := problem.New(http.StatusForbidden, detail)
	p.Cause = err
	return p
}

func (h *signedHandler) get(w http.ResponseWriter, r *http.Request, key string, g Grant) {
	rd, err := h.b.NewReader(r.Context(), key)
	if errors.Is(err, ErrNotFound) {
		writeProblem(w, problem.New(http.StatusNotFound, "no such object"))
		return
	}
	if err != nil {
		h.storeFailed(w, "GET", key, err)
		return
	}
	defer rd.Close()
	a := rd.Attrs()
	hd := w.Header()
	hd.Set("Content-Type", firstNonEmpty(g.ContentType, a.ContentType, DefaultContentType))
	hd.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	if g.ContentDisposition != "" {
		hd.Set("Content-Disposition", g.ContentDisposition)
	}
	// The object is served from the API's own origin: never let a browser sniff it into HTML
	// or run it.
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rd); err != nil {
		// Headers are gone; the short body tells the client. Nothing else to do.
		h.b.logger.Debug("blob: signed GET interrupted", "key", key, "err", err)
	}
}

func (h *signedHandler) put(w http.ResponseWriter, r *http.Request, key string, g Grant) {
	// Signed headers must come as signed, as S3 requires of its presigned PUTs.
	if ct := r.Header.Get("Content-Type"); ct != g.ContentType {
		writeProblem(w, problem.Newf(http.StatusForbidden, "Content-Type must be %q as signed", g.ContentType))
		return
	}
	if r.Header.Get("If-None-Match") != "*" {
		writeProblem(w, problem.New(http.StatusForbidden, "If-None-Match: * is required as signed"))
		return
	}
	switch {
	case r.ContentLength > g.ContentLength:
		writeProblem(w, problem.Newf(http.StatusRequestEntityTooLarge, "body is %d bytes, signed for %d", r.ContentLength, g.ContentLength))
		return
	case r.ContentLength >= 0 && r.ContentLength < g.ContentLength:
		writeProblem(w, problem.Newf(http.StatusBadRequest, "body is %d bytes, signed for %d", r.ContentLength, g.ContentLength))
		return
	}
	if h.gate != nil {
		if err := h.gate(r.Context(), key); err != nil {
			h.refused(w, key, err)
			return
		}
	}
	body := &exactReader{r: r.Body, want: g.ContentLength}
	_, err := h.b.Put(r.Context(), key, body, PutOptions{ContentType: g.ContentType, MaxSize: g.ContentLength, IfNotExist: true})
	if err == nil && h.gate != nil {
		// Asked on a context of its own: a client that hangs up now must not leave the object
		// unchecked.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
		defer cancel()
		if gerr := h.gate(ctx, key); gerr != nil {
			if derr := h.b.Delete(ctx, key); derr != nil {
				h.b.logger.Error("blob: remove object of a refused signed PUT", "key", key, "err", derr)
			}
			h.refused(w, key, gerr)
			return
		}
	}
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, ErrTooLarge):
		writeProblem(w, problem.Newf(http.StatusRequestEntityTooLarge, "body longer than the signed %d bytes", g.ContentLength))
	case errors.Is(err, errShortBody):
		writeProblem(w, problem.Newf(http.StatusBadRequest, "body shorter than the signed %d bytes", g.ContentLength))
	case errors.Is(err, ErrExists):
		writeProblem(w, problem.New(http.StatusPreconditionFailed, "the object already exists; a signed URL uploads once"))
	case r.Context().Err() != nil:
		// The client went away; it will not read an answer.
		h.b.logger.Debug("blob: signed PUT abandoned", "key", key, "err", err)
	default:
		h.storeFailed(w, "PUT", key, err)
	}
}

// storeFailed answers a store error: 503 with Retry-After for a failure the client can retry,
// 507 for a full disk (classify), 500 only for what is neither.
func (h *signedHandler) storeFailed(w http.ResponseWriter, method, key string, err error) {
	p := problem.From(err)
	h.b.logger.Error("blob: signed "+method, "key", key, "status", p.Status, "err", err)
	writeProblem(w, p)
}

// refused answers a gate's refusal.
func (h *signedHandler) refused(w http.ResponseWriter, key string, err error) {
	p := problem.From(err)
	if p.Status >= 500 {
		h.b.logger.Error("blob: signed PUT gate", "key", key, "status", p.Status, "err", err)
	}
	writeProblem(w, p)
}

var errShortBody = errors.New("body shorter than signed")

// exactReader passes r through but fails with ErrTooLarge past want bytes and with errShortBody
// on an EOF before them, so a body of any other length aborts the write instead of storing a
// wrong object. (Put's MaxSize cannot say "at most 0 bytes"; this can.)
type exactReader struct {
	r    io.Reader
	want int64
	got  int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.got += int64(n)
	if e.got > e.want {
		return n, ErrTooLarge
	}
	if err == io.EOF && e.got < e.want {
		return n, errShortBody
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("read request body: %w", err)
	}
	return n, err
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// writeProblem writes p through problem.Write, the one problem writer, with the request ID a
// request-ID middleware has set on the response, if any.
func writeProblem(w http.ResponseWriter, p *problem.Problem) {
	problem.Write(w, p, w.Header().Get("X-Request-Id"))
}
