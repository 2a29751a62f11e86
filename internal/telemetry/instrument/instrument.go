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

func begin(ctx context.Context, name string, attrs ...attribute.KeyValue) call {
	ctx, span := telemetry.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return call{ctx: ctx, span: span, start: time.Now()}
}

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
