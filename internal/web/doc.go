// Package web is the small HTTP foundation every decagon service and the edge share: handlers
// that return errors, the one place errors become RFC 9457 problem responses, request IDs,
// access logs, strict JSON decoding, a router whose 404 and 405 are problems too, and a server
// that drains before it stops. It never imports business packages.
package web
