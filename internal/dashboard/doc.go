// Package dashboard is the live picture of the local stack that `decagon dev` serves at
// /_dev/: one HTML page with its script and styles inline (no build step, no CDN, works
// offline) polling a small JSON endpoint. It shows the services (desired, running and healthy
// task counts, the scaling alarms' states and last values, the latest scale-outs, scale-ins,
// replacements and deployments), the target groups with each task's pid, health, CPU, memory
// and outstanding requests and a button to stop a task (through the stack's admin API; the
// scheduler replaces it), the routes with their requests per method, requests per second, p50
// and p99 latency and the error rate over the last minutes as small charts, and the latest WAF
// blocks and throttles.
//
// Its data come from sources defined here, which the wiring fills: the Prometheus registry the
// edge's metrics live in (sampled every second, so the page and /metrics tell the same story),
// functions listing the target groups and the services, the routes, and an Events ring that
// the WAF's and the edge's refusals are added to.
package dashboard
