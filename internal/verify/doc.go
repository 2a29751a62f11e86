// Package verify is decagon's API contract as a runnable suite: an HTTP client of the public
// API that checks, against any stage, what api/openapi.yaml and the README promise — every
// route's authorizer, the records and uploads services, problem documents, pagination,
// idempotency and the gateway's own responses. `decagon verify --url` runs it against the local
// stack (`decagon dev`) or a deployed invoke URL (https://…/Test), so parity between the two is
// checked rather than assumed.
//
// It talks to the stage over HTTP only, as a user would. It may import the standard library and
// package api (the embedded OpenAPI document, for the list of routes), and package cli for its
// command's flags (flags.go; cli imports only the standard library); it must not import the
// services, the stores, the edge or anything else that runs the stack, so that it checks the
// deployed API by the same rules as the local one.
//
// Each check prints one line: "ok   name", "FAIL name: want …, got …" or "skip name: reason".
// What the suite creates (records, uploads) it deletes before it returns.
package verify
