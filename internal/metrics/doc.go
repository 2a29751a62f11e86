// Package metrics holds decagon's Prometheus metrics: one registry per process, HTTP
// middleware counting requests per route and status class with latency histograms, the
// edge's series (target health, outstanding requests, retries, authorizer outcomes,
// throttling), the WAF's counters by rule group, database pool and query latency, object
// store latency and build information; and CloudWatch Embedded Metric Format lines (emf.go)
// for the few series the AWS alarms need that AWS does not measure itself.
//
// Names follow Prometheus conventions: the decagon_ prefix, base units in the name (_seconds,
// _bytes), _total on counters. Every label value comes from a closed set — a route template
// from api/openapi.yaml, a status class, a method from a fixed list, a target group from
// decagon.yaml — never a raw path, ID or client-supplied string, so no request can add a
// series.
//
// Sources are plain functions and small structs defined here: the packages measured (edge,
// balancer, waf, store, blob) never import this one; the adapters in internal/devstack and
// internal/registry wire them together.
package metrics
