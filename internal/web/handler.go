package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"sync"

	"github.com/decagon/decagon/internal/problem"
)

// Handler is an HTTP handler that returns an error instead of writing one.
type Handler func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP runs h and turns a returned error into a problem response.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// WriteError writes err as a problem response. It is the one place where an error becomes a
// response: problem.From maps it, the chain is logged with the request ID (5xx at error, a 4xx
// with a cause at debug) and never sent, and problem.Write writes the document.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	p := problem.From(err)
	switch {
	case p.Status >= 500:
		Logger(r.Context()).Error("request failed", "status", p.Status, "err", err)
	case p.Cause != nil:
		Logger(r.Context()).Debug("request refused", "status", p.Status, "err", err)
	}
	WriteProblem(w, r, p)
}

// WriteProblem writes p with the request's ID, through problem.Write.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
	problem.Write(w, p, RequestID(r.Context()))
}

// WriteJSON writes v as JSON with the given status: what json.Marshal makes, and a newline.
// A value that cannot be encoded is an error before anything is written. A value with an
// AppendJSON method (records.Record) appends its own encoding, which must be json.Marshal's.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer putJSONBuffer(buf)
	if a, ok := v.(jsonAppender); ok {
		b, err := a.AppendJSON(buf.AvailableBuffer())
		if err != nil {
			return err
		}
		buf.Write(b) // no copy when b is buf's own spare room
		buf.WriteByte('\n')
	} else if err := json.NewEncoder(buf).Encode(v); err != nil {
		// Encode writes Marshal's bytes and the newline straight into buf: no copy of the
		// body, and no append that grows it by one byte.
		return err
	}
	h := w.Header()
	// Shared, never modified values: Header.Set would allocate a slice for each per response.
	h["Content-Type"] = contentTypeJSON
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(status)
	// An error here means the client went away after the status was sent; nothing is left to
	// tell it.
	_, _ = w.Write(buf.Bytes())
	return nil
}

// jsonAppender is a value that encodes itself as json.Marshal would, appending to a buffer.
type jsonAppender interface {
	AppendJSON(dst []byte) ([]byte, error)
}

// The header values WriteJSON sets, with no room to append to (Header.Add copies them).
var (
	contentTypeJSON = []string{"application/json"}[:1:1]
	noSniff         = []string{"nosniff"}[:1:1]
)

// jsonBuffers recycles WriteJSON's buffers.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledJSON is the largest buffer kept for reuse: a page of big records is left to the GC,
// so the pool never pins megabytes in a 512 MiB task.
const maxPooledJSON = 64 << 10

func putJSONBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledJSON {
		return
	}
	buf.Reset()
	jsonBuffers.Put(buf)
}

// Recover turns a panic in next into a 500 problem and a log line with the value.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				Logger(r.Context()).Error("panic", "value", v, "stack", stack())
				WriteError(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func stack() string {
	buf := make([]byte, 8<<10)
	return string(buf[:runtime.Stack(buf, false)])
}

// Logger returns the request-scoped logger (with the request ID) or the default one.
func Logger(ctx interface{ Value(any) any }) *slog.Logger {
	if s := scopeOf(ctx); s != nil {
		return s.log()
	}
	return slog.Default()
}
