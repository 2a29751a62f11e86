package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

type requestIDKey struct{}
type loggerKey struct{}

// HeaderRequestID is the header that carries the request ID in both directions.
const HeaderRequestID = "X-Request-Id"

// RequestID returns the request ID stored in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithRequestID returns ctx carrying id and a logger that logs it.
func WithRequestID(ctx context.Context, base *slog.Logger, id string) context.Context {
	ctx = context.WithValue(ctx, requestIDKey{}, id)
	return context.WithValue(ctx, loggerKey{}, base.With("request_id", id))
}

// NewRequestID returns a random 128-bit ID in hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
		if !ValidRequestID(id) {
			id = NewRequestID()
			r.Header.Set(HeaderRequestID, id)
		}
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), logger, id)))
	})
}
