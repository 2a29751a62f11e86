package decagon

import (
	"errors"
	"fmt"
)

// Code says what kind of failure an error is, whatever layer it comes from. Domain packages and
// stores return *Error values with a Code and know nothing of HTTP; the HTTP side maps each Code
// to a status in exactly one place (internal/problem.From), as benbjohnson/wtf's error.go does.
type Code string

// The codes. The status each one becomes is internal/problem's business.
const (
	// ENotFound: the resource does not exist or is not the caller's.
	ENotFound Code = "not_found"
	// EInvalid: the input is malformed (bad syntax, a value out of range, invalid UTF-8).
	EInvalid Code = "invalid"
	// EUnprocessable: the input is well formed but cannot be accepted as it is (an idempotency
	// key reused with another body, a value no backend can store faithfully).
	EUnprocessable Code = "unprocessable"
	// EConflict: the request conflicts with the resource's current state.
	EConflict Code = "conflict"
	// EForbidden: the caller may not do this.
	EForbidden Code = "forbidden"
	// ETooLarge: the content is larger than allowed.
	ETooLarge Code = "too_large"
	// EUnavailable: a dependency (database, object store) cannot be reached now; retrying later
	// may succeed.
	EUnavailable Code = "unavailable"
	// EInsufficientStorage: the store has no room for the content.
	EInsufficientStorage Code = "insufficient_storage"
	// EInternal: anything else. Its message is never shown to clients.
	EInternal Code = "internal"
)

// Error is a failure with a Code and a Message written for the client (what was wrong, what to
// do). Err, the cause, goes to the log and never to the client.
type Error struct {
	Code    Code
	Message string
	Err     error
}

// Sentinels for errors.Is: an *Error matches any sentinel of the same Code.
var (
	ErrNotFound    = &Error{Code: ENotFound, Message: "no such resource"}
	ErrConflict    = &Error{Code: EConflict, Message: "the request conflicts with the resource's state"}
	ErrUnavailable = &Error{Code: EUnavailable, Message: "a backing service is unavailable; retry later"}
)

// Errorf returns an *Error with code and a client message built from format.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message whose cause is err.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Error implements error: the message and the cause, for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same Code, so errors.Is(err, ErrNotFound) holds
// for every not-found error whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorCode returns the Code of the first *Error in err's chain, EInternal when there is none,
// and "" for a nil err.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}
