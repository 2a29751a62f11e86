package web

import (
	"net/http"
	"path"
	"strings"

	"github.com/decagon/decagon/internal/problem"
)

// Router is an http.ServeMux whose "not found" and "method not allowed" answers are problems.
// The pattern "/" is its own (the fallback for every request no route matches); register
// routes with a method or a longer path.
type Router struct {
	// mux holds the routes and "/", which sends whatever they do not match to fallback: a
	// request is matched once, by the mux that serves it (and sets its PathValues).
	mux http.ServeMux
	// routes holds the routes alone; fallback asks it whether a path has other methods (405).
	routes   http.ServeMux
	patterns []string
}

// Handle registers h for a ServeMux pattern ("GET /test/{test_id}").
func (rt *Router) Handle(pattern string, h http.Handler) {
	if len(rt.patterns) == 0 {
		rt.mux.Handle("/", http.HandlerFunc(rt.fallback))
	}
	rt.mux.Handle(pattern, h)
	rt.routes.Handle(pattern, h)
	rt.patterns = append(rt.patterns, pattern)
}

// Patterns returns the registered patterns, in registration order.
func (rt *Router) Patterns() []string { return append([]string(nil), rt.patterns...) }

// ServeHTTP dispatches to the matching handler, or writes a 404 or 405 problem.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// ServeMux would redirect a non-canonical path ("/a/../b", "//a"); an API answers 404.
	if p := r.URL.Path; p == "" || p[0] != '/' || path.Clean(p) != p && path.Clean(p)+"/" != p {
		WriteProblem(w, r, problem.New(http.StatusNotFound, "no such route"))
		return
	}
	if len(rt.patterns) == 0 {
		WriteProblem(w, r, problem.New(http.StatusNotFound, "no such route"))
		return
	}
	rt.mux.ServeHTTP(w, r)
}

// fallback answers a request no route matched: 405 with Allow when the path has routes for
// other methods, 404 otherwise.
func (rt *Router) fallback(w http.ResponseWriter, r *http.Request) {
	// Let the routes' mux decide between 404, 405 (with Allow) and a redirect, then answer as
	// a problem.
	h, _ := rt.routes.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusMethodNotAllowed:
		p := problem.Newf(http.StatusMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path)
		WriteProblem(w, r, p.With("Allow", probe.header.Get("Allow")))
	default:
		WriteProblem(w, r, problem.New(http.StatusNotFound, "no such route"))
	}
}

// headerProbe records what a fallback handler would write, and discards the body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}

// MethodOf returns the method of a pattern, "" when it has none.
func MethodOf(pattern string) string {
	if m, _, ok := strings.Cut(pattern, " "); ok {
		return m
	}
	return ""
}
