// Package web is the small HTTP foundation every decagon service and the edge share: handlers
// that return errors, the one place errors become RFC 9457 problem responses (WriteError:
// problem.From, the chain logged with the request ID, problem.Write), request IDs, access logs,
// strict JSON decoding (UTF-8 checked before decoding), reading a listing request from a URL
// and writing a page, a router whose 404 and 405 are problems too, and a server that drains
// before it stops.
//
// It may import the root package decagon, internal/problem, internal/listing,
// internal/utf8json and the standard library; never a service (records, uploads), a store, the
// edge or the balancer.
package web
