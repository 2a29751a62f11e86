package web

import (
	"log/slog"
	"net/http"
	"time"
)

// StatusRecorder wraps a ResponseWriter to remember the status and the bytes written.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
	Bytes  int64
	// Quiet logs the request at debug rather than info (see Quiet).
	Quiet bool
}

// WriteHeader records the status.
func (s *StatusRecorder) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records the bytes.
func (s *StatusRecorder) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.Bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (s *StatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// AccessLog writes one JSON line per request after it completes, with the request ID when
// RequestIDs runs before it. The line is the one Logger(ctx) would write (the ID right after the
// base logger's own attributes), made without a per-request logger and with typed attributes
// only, so that it costs no reflection and no handler clone.
func AccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &StatusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.Status == 0 {
			rec.Status = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case rec.Quiet:
			level = slog.LevelDebug
		case rec.Status >= 500:
			level = slog.LevelError
		}
		ctx := r.Context()
		scope := scopeOf(ctx)
		logger := slog.Default()
		if scope != nil {
			logger = scope.base
		}
		h := logger.Handler()
		if !h.Enabled(ctx, level) {
			return // health checks at info level: nothing to format
		}
		attrs := [...]slog.Attr{
			{}, // the request ID, when there is one
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.Status),
			slog.Int64("bytes", rec.Bytes),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("remote", r.RemoteAddr),
		}
		line := attrs[1:]
		if scope != nil {
			attrs[0] = slog.String("request_id", scope.id)
			line = attrs[:]
		}
		// The record is made here rather than by Logger.LogAttrs, which spends a runtime.Callers
		// per line on the caller's PC; an access line's source would always be this file.
		record := slog.NewRecord(time.Now(), level, "request", 0)
		record.AddAttrs(line...)
		_ = h.Handle(ctx, record)
	})
}

// Quiet makes AccessLog log the requests next serves at debug level: the load balancer's health
// checks, several a second per replica, are not access-log material (an ALB does not log them
// either); their failures are logged by the checks themselves.
func Quiet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for u := w; u != nil; {
			if rec, ok := u.(*StatusRecorder); ok {
				rec.Quiet = true
				break
			}
			uw, ok := u.(interface{ Unwrap() http.ResponseWriter })
			if !ok {
				break
			}
			u = uw.Unwrap()
		}
		next.ServeHTTP(w, r)
	})
}
