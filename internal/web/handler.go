package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/decagon/decagon/internal/problem"
)

// Handler is an HTTP handler that returns an error instead of writing one.
type Handler func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP runs h and turns a returned error into a problem response.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// WriteError writes err as a problem response. It is the one place where an error becomes a
// response: problem.From maps it, the chain is logged with the request ID (5xx at error, a 4xx
// with a cause at debug) and never sent, and problem.Write writes the document.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	p := problem.From(err)
	switch {
	case p.Status >= 500:
		Logger(r.Context()).Error("request failed", "status", p.Status, "err", err)
	case p.Cause != nil:
		Logger(r.Context()).Debug("request refused", "status", p.Status, "err", err)
	}
	WriteProblem(w, r, p)
}

// WriteProblem writes p with the request's ID, through problem.Write.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
	problem.Write(w, p, RequestID(r.Context()))
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	if err != nil {
		// The client went away after the status was sent; nothing left to tell it.
		return nil
	}
	return nil
}

// Recover turns a panic in next into a 500 problem and a log line with the value.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				Logger(r.Context()).Error("panic", "value", v, "stack", stack())
				WriteError(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func stack() string {
	buf := make([]byte, 8<<10)
	return string(buf[:runtime.Stack(buf, false)])
}

// Logger returns the request-scoped logger (with the request ID) or the default one.
func Logger(ctx interface{ Value(any) any }) *slog.Logger {
	if s := scopeOf(ctx); s != nil {
		return s.log()
	}
	return slog.Default()
}
