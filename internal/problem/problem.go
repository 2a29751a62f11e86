// Package problem is the HTTP side of decagon's errors: the one mapping from an error to an
// RFC 9457 problem document (From: a decagon.Error's code to a status, its client message to
// the detail, the chain kept as Cause for the log) and the one writer of such documents (Write).
//
// Stores and domain packages return decagon errors (wrapped with context) and never import this
// package; HTTP adapters return them or a *Problem, and web.WriteError answers whatever comes
// back. It may import the root package decagon and the standard library.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/decagon/decagon"
)

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// Problem is an RFC 9457 problem document. It is also an error, so handlers can return it.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`

	// Header holds response headers the problem needs (Allow, WWW-Authenticate, Retry-After).
	Header http.Header `json:"-"`
	// Cause is logged, never sent.
	Cause error `json:"-"`
}

// Error implements error.
func (p *Problem) Error() string {
	if p.Cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", p.Status, p.Title, p.Detail, p.Cause)
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
}

// Unwrap returns the cause.
func (p *Problem) Unwrap() error { return p.Cause }

// New returns a problem with the given status, the standard title for it and detail.
func New(status int, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// Newf is New with a format.
func Newf(status int, format string, args ...any) *Problem {
	return New(status, fmt.Sprintf(format, args...))
}

// With returns p with header key set to value.
func (p *Problem) With(key, value string) *Problem {
	if p.Header == nil {
		p.Header = http.Header{}
	}
	p.Header.Set(key, value)
	return p
}

// statusOf is the one mapping from a domain error code to an HTTP status.
var statusOf = map[decagon.Code]int{
	decagon.ENotFound:            http.StatusNotFound,
	decagon.EInvalid:             http.StatusBadRequest,
	decagon.EUnprocessable:       http.StatusUnprocessableEntity,
	decagon.EConflict:            http.StatusConflict,
	decagon.EForbidden:           http.StatusForbidden,
	decagon.ETooLarge:            http.StatusRequestEntityTooLarge,
	decagon.EUnavailable:         http.StatusServiceUnavailable,
	decagon.EInsufficientStorage: http.StatusInsufficientStorage,
}

// From maps any error to the problem sent for it: a *Problem in the chain as is, a
// *decagon.Error to the status of its code with its client message as the detail, anything else
// to a 500 whose detail reveals nothing. The error itself is kept as Cause, for the log.
func From(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var de *decagon.Error
	if errors.As(err, &de) {
		if status, ok := statusOf[de.Code]; ok {
			out := New(status, de.Message)
			out.Cause = err
			if status == http.StatusServiceUnavailable {
				out.With("Retry-After", "1")
			}
			return out
		}
	}
	return &Problem{Type: "about:blank", Title: "Internal Server Error", Status: http.StatusInternalServerError, Detail: "internal error", Cause: err}
}

// Write is the one place a problem document is written: p's headers, the content type, no
// sniffing, no caching, and the body with requestID. Every package that answers with a problem
// (services, authorizer, blob handler, identity provider, edge) calls it.
func Write(w http.ResponseWriter, p *Problem, requestID string) {
	out := *p
	out.RequestID = requestID
	if out.Type == "" {
		out.Type = "about:blank"
	}
	if out.Title == "" {
		out.Title = http.StatusText(out.Status)
	}
	body, err := json.Marshal(&out)
	if err != nil { // a Problem always marshals; keep a body anyway
		body = []byte(`{"type":"about:blank","status":500}`)
	}
	WriteRendered(w, out.Status, p.Header, append(body, '\n'))
}

// WriteRendered writes a problem document whose body was rendered elsewhere — the edge renders
// API Gateway's gateway response templates from the document — with the same headers as Write:
// header's fields, the content type, no sniffing, no caching.
func WriteRendered(w http.ResponseWriter, status int, header http.Header, body []byte) {
	h := w.Header()
	for k, vs := range header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("Content-Type", ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
