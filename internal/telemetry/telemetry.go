package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// InstrumentationName names decagon's tracer.
const InstrumentationName = "github.com/decagon/decagon"

// Config configures Setup.
type Config struct {
	// ServiceName is the service.name resource attribute ("decagon-tests", "decagon-edge").
	ServiceName string
	// Version is the service.version resource attribute.
	Version string
	// Exporter, when set, receives the spans instead of an OTLP exporter (tests).
	Exporter sdktrace.SpanExporter
	// Getenv reads the environment; os.Getenv when nil.
	Getenv func(string) string
}

// exporting is true while an SDK tracer provider is installed: then the SDK makes the IDs of
// root spans, and Middleware must not make them itself.
var exporting atomic.Bool

func init() {
	otel.SetTextMapPropagator(w3c)
}

// w3c is the propagator decagon installs: W3C trace context and baggage. It is a pointer so that
// Middleware can tell it is still the global one (a composite propagator is a slice, which no
// comparison accepts) and take its fast path.
var w3c = &w3cPropagator{propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}

type w3cPropagator struct{ propagation.TextMapPropagator }

// Enabled reports whether spans are recorded and exported.
func Enabled() bool { return exporting.Load() }

// Setup installs the global tracer provider and the W3C propagator. With an OTLP endpoint in
// the environment (or cfg.Exporter) spans are batched and exported; without one the provider is
// a no-op. The returned function flushes and stops the exporter; call it on shutdown.
func Setup(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	otel.SetTextMapPropagator(w3c)
	exp := cfg.Exporter
	if exp == nil {
		if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			otel.SetTracerProvider(noop.NewTracerProvider())
			exporting.Store(false)
			return func(context.Context) error { return nil }, nil
		}
		// The exporter reads the endpoint, headers, timeout and TLS settings from the
		// standard OTEL_EXPORTER_OTLP_* variables itself.
		if exp, err = otlptracehttp.New(ctx); err != nil {
			return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
		}
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", cfg.ServiceName),
		attribute.String("service.version", cfg.Version),
	))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(res),
		// OTEL_TRACES_SAMPLER and its argument are honoured by the SDK's default; a caller's
		// sampled flag wins, as W3C trace context wants.
	)
	otel.SetTracerProvider(tp)
	exporting.Store(true)
	return func(ctx context.Context) error {
		exporting.Store(false)
		otel.SetTracerProvider(noop.NewTracerProvider())
		return errors.Join(tp.ForceFlush(ctx), tp.Shutdown(ctx))
	}, nil
}

// Tracer returns decagon's tracer from the global provider.
func Tracer() trace.Tracer { return otel.Tracer(InstrumentationName) }

// TraceID returns the trace ID in ctx in hex, or "".
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}
