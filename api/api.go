// Package api embeds api/openapi.yaml, the one source of truth for decagon's public API, and
// answers the questions the services and the edge ask of it — the operations and their
// security (OperationsOf) in one reading for both. It imports kin-openapi and nothing of
// decagon's.
package api

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// Spec is the raw OpenAPI 3.0 document.
//
//go:embed openapi.yaml
var Spec []byte

// Operation is one method on one path of the document.
type Operation struct {
	Method string // upper case, e.g. "GET"
	Path   string // as in the document, e.g. "/test/{test_id}"
	ID     string // operationId
	// Public is true when the operation needs no token (security: []).
	Public bool
	// Scopes lists the scopes of the cognito requirement; empty means an ID token is wanted.
	Scopes []string
}

// Pattern returns the operation as a net/http ServeMux pattern ("GET /test/{test_id}").
func (o Operation) Pattern() string { return o.Method + " " + o.Path }

var (
	loadOnce sync.Once
	loaded   *openapi3.T
	loadErr  error
)

// Load parses and validates the embedded document once.
func Load() (*openapi3.T, error) {
	loadOnce.Do(func() {
		l := openapi3.NewLoader()
		doc, err := l.LoadFromData(Spec)
		if err != nil {
			loadErr = fmt.Errorf("parse openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			loadErr = fmt.Errorf("validate openapi.yaml: %w", err)
			return
		}
		loaded = doc
	})
	return loaded, loadErr
}

// CognitoScheme is the security scheme of the document's Cognito user pool authorizer, the
// only scheme decagon implements (at the edge and in every service).
const CognitoScheme = "cognito"

// Operations returns every operation of the embedded document, sorted by path then method.
func Operations() ([]Operation, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	return OperationsOf(doc)
}

// OperationsOf returns every operation of doc, sorted by path then method. It is the one
// reading of the document's security that the edge's authorizer and the services' token
// check share, so the two cannot drift: an operation's own security, else the document's;
// none (security: []) makes it public; the scopes are those of its cognito requirements (a
// token carrying any one of them passes; none asks for an ID token). A requirement naming
// another scheme is an error: nothing would check it, and a route must never be open by
// omission.
func OperationsOf(doc *openapi3.T) ([]Operation, error) {
	var ops []Operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := Operation{Method: strings.ToUpper(method), Path: path, ID: op.OperationID}
			sec := doc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			o.Public = len(sec) == 0
			for _, req := range sec {
				if len(req) == 0 {
					// {} in the list makes the operation callable without credentials.
					return nil, fmt.Errorf("%s: an empty security requirement ({}) makes the route public; write security: [] for that", o.Pattern())
				}
				for scheme, scopes := range req {
					if scheme != CognitoScheme {
						return nil, fmt.Errorf("%s: security scheme %q is not implemented (only %q is)", o.Pattern(), scheme, CognitoScheme)
					}
					o.Scopes = append(o.Scopes, scopes...)
				}
			}
			sort.Strings(o.Scopes)
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	return ops, nil
}

// Find returns the operation with the given method and document path.
func Find(method, path string) (Operation, bool) {
	ops, err := Operations()
	if err != nil {
		return Operation{}, false
	}
	for _, o := range ops {
		if o.Method == method && o.Path == path {
			return o, true
		}
	}
	return Operation{}, false
}

// FindPattern returns the operation for a ServeMux pattern ("GET /test/{test_id}").
func FindPattern(pattern string) (Operation, bool) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return Operation{}, false
	}
	return Find(method, path)
}
