package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync/atomic"
)

type requestIDKey struct{}

// HeaderRequestID is the header that carries the request ID in both directions.
const HeaderRequestID = "X-Request-Id"

// requestScope is what a request's context carries: its ID, and the logger that logs it, made
// on first use. Most requests log one line, the access log's, which needs no logger of its own
// (AccessLog adds the ID to the base logger's line); making one per request (slog's With
// formats the attribute into a new handler) was a measurable part of a request's CPU.
type requestScope struct {
	id     string
	base   *slog.Logger
	logger atomic.Pointer[slog.Logger]
}

// scopeOf returns the request scope in ctx, or nil.
func scopeOf(ctx interface{ Value(any) any }) *requestScope {
	s, _ := ctx.Value(requestIDKey{}).(*requestScope)
	return s
}

// log returns the scope's logger, base.With("request_id", id), making it on the first call.
func (s *requestScope) log() *slog.Logger {
	if l := s.logger.Load(); l != nil {
		return l
	}
	s.logger.CompareAndSwap(nil, s.base.With("request_id", s.id))
	return s.logger.Load()
}

// RequestID returns the request ID stored in ctx, or "".
func RequestID(ctx context.Context) string {
	if s := scopeOf(ctx); s != nil {
		return s.id
	}
	return ""
}

// WithRequestID returns ctx carrying id and a logger that logs it (see Logger); base is
// slog.Default() when nil.
func WithRequestID(ctx context.Context, base *slog.Logger, id string) context.Context {
	if base == nil {
		base = slog.Default()
	}
	return context.WithValue(ctx, requestIDKey{}, &requestScope{id: id, base: base})
}

// NewRequestID returns a random 128-bit ID in hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	var h [32]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// ValidRequestID reports whether a client-supplied ID may be kept: 1..128 characters from a
// conservative set, so it can go into logs and headers unescaped.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':':
		default:
			return false
		}
	}
	return true
}

// RequestIDs keeps a well-formed X-Request-Id from the request or makes one, sets it on the
// response and puts it (and a logger carrying it) in the request context.
func RequestIDs(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		// One slice for both headers (cap 1: an Add to either copies it) rather than one per
		// Header.Set.
		ids := []string{id}[:1:1]
		if !ValidRequestID(id) {
			id = NewRequestID()
			ids[0] = id
			r.Header[HeaderRequestID] = ids
		}
		w.Header()[HeaderRequestID] = ids
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), logger, id)))
	})
}
