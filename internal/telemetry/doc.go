// Package telemetry carries OpenTelemetry traces through decagon: W3C traceparent from the
// edge through the services to their database and object store calls, exported by OTLP over
// HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set — in
// AWS, the ADOT collector sidecar that forwards to X-Ray — and otherwise a no-op provider that
// records nothing and costs next to nothing.
//
// Even without export, Middleware keeps a trace ID on every request (the caller's, or a fresh
// one at the first hop) and passes it on in the traceparent header, and LogHandler writes it
// into every log line made with the request's context, so the edge's and the services' lines
// of one request can be found together.
package telemetry
