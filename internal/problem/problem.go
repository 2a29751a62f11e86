// Package problem holds the errors decagon returns to clients and the one mapping from an error
// to an RFC 9457 problem document (application/problem+json).
//
// Stores and services return the sentinel errors below (wrapped with context); handlers return
// them or a *Problem; web.Handle turns whatever comes back into a response in exactly one place.
package problem

import (
	"errors"
	"fmt"
	"net/http"
)

// Domain errors every store returns alike, whatever its backend.
var (
	// ErrNotFound means the record does not exist or is not the caller's.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request conflicts with stored state (for instance an idempotency key
	// reused with another body).
	ErrConflict = errors.New("conflict")
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

// From maps any error to the problem sent for it: a *Problem in the chain as is, the domain
// errors to their statuses, anything else to a 500 whose detail reveals nothing.
func From(err error) *Problem {
	var p *Problem
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, ErrNotFound):
		return &Problem{Type: "about:blank", Title: "Not Found", Status: http.StatusNotFound, Detail: "no such resource", Cause: err}
	case errors.Is(err, ErrConflict):
		return &Problem{Type: "about:blank", Title: "Unprocessable Entity", Status: http.StatusUnprocessableEntity, Detail: err.Error(), Cause: err}
	default:
		return &Problem{Type: "about:blank", Title: "Internal Server Error", Status: http.StatusInternalServerError, Detail: "internal error", Cause: err}
	}
}
