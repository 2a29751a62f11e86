package edge

import (
	"fmt"
	"mime"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"github.com/decagon/decagon/internal/auth"
)

// operation is one method of one path of the document, with everything the edge needs to
// serve it, computed once.
type operation struct {
	method  string
	path    string // as in the document: "/test/{test_id}"
	pattern string // "GET /test/{test_id}", the key of throttling overrides
	public  bool
	req     auth.Requirement

	route          *routers.Route // for openapi3filter, with security left to the authorizer
	validateParams bool
	validateBody   bool
	hasParams      bool     // the operation declares parameters
	hasBody        bool     // the operation declares a request body
	bodyRequired   bool     // ... and requires it
	mediaTypes     []string // the body's declared media types ("application/json", "multipart/*")
	stream         bool     // a binary body: streamed through, never buffered or validated
	timeout        time.Duration
	limiter        *bucket
	// localOnly marks an operation that is not behind API Gateway when deployed (the local
	// file store's signed URLs stand in for S3's): no payload limit, no stage throttling, and
	// a longer timeout.
	localOnly bool
}

// localOnlyTimeout is the integration timeout of local-only operations (large transfers).
const localOnlyTimeout = 10 * time.Minute

// pathEntry is one path of the document with its operations.
type pathEntry struct {
	segs    []string // the path's segments; "{name}" for a parameter
	params  []string // parameter name per segment, "" for literals
	methods map[string]*operation
	allow   string // the methods, for 405's Allow header
}

// router matches request paths against the document's paths.
type router struct {
	paths []*pathEntry
}

// match returns the path entry for a clean, stage-stripped path, or nil.
func (rt *router) match(path string) *pathEntry {
	for _, e := range rt.paths {
		if matchSegments(e.segs, path) {
			return e
		}
	}
	return nil
}

// matchSegments reports whether path ("/a/b") matches the template segments without
// allocating; a parameter segment matches any non-empty segment.
func matchSegments(segs []string, path string) bool {
	rest := path
	for _, s := range segs {
		if len(rest) == 0 || rest[0] != '/' {
			return false
		}
		rest = rest[1:]
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			i = len(rest)
		}
		seg := rest[:i]
		rest = rest[i:]
		if len(s) > 1 && s[0] == '{' {
			if seg == "" {
				return false
			}
			continue
		}
		if seg != s {
			return false
		}
	}
	return rest == ""
}

// pathParams returns the values of e's parameters in path (percent-decoded).
func (e *pathEntry) pathParams(path string) map[string]string {
	out := make(map[string]string, 1)
	rest := path
	for i := range e.segs {
		rest = rest[1:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			j = len(rest)
		}
		if e.params[i] != "" {
			v, err := url.PathUnescape(rest[:j])
			if err != nil {
				v = rest[:j]
			}
			out[e.params[i]] = v
		}
		rest = rest[j:]
	}
	return out
}

// cleanPath reports whether p is a canonical absolute path: no empty, "." or ".." segment
// (a trailing slash counts as an empty segment). Only such paths are routed.
func cleanPath(p string) bool {
	if len(p) < 2 || p[0] != '/' {
		return p == "/"
	}
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		seg := p[start:i]
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		start = i + 1
	}
	return true
}

// binaryMediaTypes are request body types passed through unbuffered and unvalidated, as
// API Gateway treats its binary media types.
func isBinaryMedia(mt string) bool {
	switch {
	case strings.HasPrefix(mt, "multipart/"), mt == "application/octet-stream", mt == "*/*",
		strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"),
		mt == "application/pdf", mt == "application/zip":
		return true
	}
	return false
}

// buildRouter makes the operations of doc.
func buildRouter(doc *openapi3.T, ops map[string]*operation) (*router, error) {
	validators := requestValidators(doc)
	defaultValidator, _ := doc.Extensions["x-amazon-apigateway-request-validator"].(string)
	rt := &router{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		e := &pathEntry{methods: map[string]*operation{}}
		for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
			e.segs = append(e.segs, seg)
			name := ""
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				name = seg[1 : len(seg)-1]
			}
			e.params = append(e.params, name)
		}
		var methods []string
		for method, op := range item.Operations() {
			method = strings.ToUpper(method)
			o := ops[method+" "+path]
			if o == nil {
				return nil, fmt.Errorf("operation %s %s missing from api.Operations", method, path)
			}
			// Security is the authorizer's job: a copy of the operation without it keeps
			// openapi3filter from reading the body for it.
			opCopy := *op
			opCopy.Security = &openapi3.SecurityRequirements{}
			o.route = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: &opCopy}
			name := defaultValidator
			if v, ok := op.Extensions["x-amazon-apigateway-request-validator"].(string); ok {
				name = v
			}
			if v, ok := validators[name]; ok {
				o.validateBody, o.validateParams = v[0], v[1]
			} else if name == "" {
				o.validateBody, o.validateParams = false, false
			} else {
				return nil, fmt.Errorf("%s %s: unknown request validator %q", method, path, name)
			}
			o.hasParams = len(op.Parameters) > 0 || len(item.Parameters) > 0
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				o.hasBody = true
				o.bodyRequired = rb.Value.Required
				for mt := range rb.Value.Content {
					o.mediaTypes = append(o.mediaTypes, strings.ToLower(mt))
					if isBinaryMedia(strings.ToLower(mt)) {
						o.stream = true
					}
				}
				sort.Strings(o.mediaTypes)
			}
			o.timeout = integrationTimeout(op)
			if v, _ := op.Extensions["x-decagon-local-only"].(bool); v {
				o.localOnly, o.timeout = true, localOnlyTimeout
			}
			e.methods[method] = o
			methods = append(methods, method)
		}
		sort.Strings(methods)
		e.allow = strings.Join(methods, ", ")
		rt.paths = append(rt.paths, e)
	}
	return rt, nil
}

// requestValidators reads x-amazon-apigateway-request-validators: name → {body, params}.
func requestValidators(doc *openapi3.T) map[string][2]bool {
	out := map[string][2]bool{}
	m, _ := doc.Extensions["x-amazon-apigateway-request-validators"].(map[string]any)
	for name, raw := range m {
		v, _ := raw.(map[string]any)
		body, _ := v["validateRequestBody"].(bool)
		params, _ := v["validateRequestParameters"].(bool)
		out[name] = [2]bool{body, params}
	}
	return out
}

// integrationTimeout is the operation's x-amazon-apigateway-integration timeoutInMillis, or
// API Gateway's default of 29 s.
func integrationTimeout(op *openapi3.Operation) time.Duration {
	const def = 29 * time.Second
	integ, _ := op.Extensions["x-amazon-apigateway-integration"].(map[string]any)
	ms, ok := integ["timeoutInMillis"].(float64)
	if !ok || ms < 50 {
		return def
	}
	return time.Duration(ms) * time.Millisecond
}

// acceptsMediaType reports whether the request's Content-Type is one the operation declares
// (wildcards such as "multipart/*" and "*/*" included).
func (o *operation) acceptsMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	for _, want := range o.mediaTypes {
		switch {
		case want == mt, want == "*/*":
			return true
		case strings.HasSuffix(want, "/*") && strings.HasPrefix(mt, want[:len(want)-1]):
			return true
		}
	}
	return false
}
