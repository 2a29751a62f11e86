package telemetry

import (
	"context"
	"encoding/hex"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler returns h adding trace_id and span_id to every record logged with a context that
// carries a span (Logger.InfoContext, LogAttrs with the request's context).
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

// Handle adds the IDs to r, a copy: Clone keeps the caller's attributes from being overwritten
// (it only clips the shared slice, so the AddAttrs below copies it once). Both IDs are
// hex-encoded into one string, sliced for the two attributes: one allocation, where TraceID.String
// and SpanID.String make two each. Every request has a trace context (telemetry.Middleware
// makes one when the caller sends none), so this runs for every access line.
func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		tid, sid := sc.TraceID(), sc.SpanID()
		var buf [2 * (len(tid) + len(sid))]byte
		hex.Encode(buf[:2*len(tid)], tid[:])
		hex.Encode(buf[2*len(tid):], sid[:])
		ids := string(buf[:])
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", ids[:2*len(tid)]), slog.String("span_id", ids[2*len(tid):]))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(as)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }
