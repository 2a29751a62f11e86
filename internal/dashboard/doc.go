// Package dashboard is the live picture of the local stack that `decagon dev` serves at
// /_dev/: one HTML page with its script and styles inline (no build step, no CDN, works
// offline) polling a small JSON endpoint. It shows the routes, the target groups with each
// target's health and outstanding requests and buttons to stop and start a replica (through
// the stack's admin API), requests per second, p50 and p99 latency and the error rate over
// the last minutes as small charts, and the latest WAF blocks and throttles.
//
// Its data come from sources defined here, which the wiring fills: the Prometheus registry the
// edge's metrics live in (sampled every second, so the page and /metrics tell the same story),
// a function listing the target groups, the routes, and an Events ring that the WAF's and the
// edge's refusals are added to.
package dashboard
