// Package instrument wraps the stores and the object store of the services so that every call
// is a child span of the request's trace (db.* and blob.* attributes) and is timed for the
// metrics. The wrappers change no behaviour: arguments, results and errors pass through.
package instrument

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/telemetry"
)

// DBObserver is told of every database call (metrics.Storage and metrics.EMF are).
type DBObserver interface {
	ObserveDB(op string, d time.Duration, err error)
}

// BlobObserver is told of every object store call.
type BlobObserver interface {
	ObserveBlob(op string, d time.Duration, err error)
}

// call is one timed, traced call.
type call struct {
	ctx   context.Context
	span  trace.Span
	start time.Time
}

// begin starts the span of a call and times it. While no spans are exported it starts none:
// the call keeps the request's context, whose trace context the logs already carry, and costs
// a clock read (the no-op provider's Start still allocated a context, options and attributes).
func begin(ctx context.Context, name string, attrs ...attribute.KeyValue) call {
	if !telemetry.Enabled() {
		return untraced(ctx)
	}
	ctx, span := telemetry.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return call{ctx: ctx, span: span, start: time.Now()}
}

// untraced is a timed call without a span.
func untraced(ctx context.Context) call {
	return call{ctx: ctx, span: noSpan, start: time.Now()}
}

// noSpan stands in for the span of a call that is not traced; its methods do nothing.
var noSpan trace.Span = noop.Span{}

// end finishes the span; not-found and conflict are answers, not span errors.
func (c call) end(err error) time.Duration {
	d := time.Since(c.start)
	if err != nil && !errors.Is(err, decagon.ErrNotFound) && !errors.Is(err, decagon.ErrConflict) && decagon.ErrorCode(err) != decagon.EUnprocessable {
		c.span.RecordError(err)
		c.span.SetStatus(codes.Error, "failed")
	}
	c.span.End()
	return d
}
