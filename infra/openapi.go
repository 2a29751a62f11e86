package main

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Document is api/openapi.yaml parsed into plain maps, ready to be rewritten for a stack and
// handed to API Gateway as the REST API's body.
type Document map[string]any

// Integration is what the private integrations of the document are rewritten with.
type Integration struct {
	// Scheme is "http" or "https": how API Gateway calls the ALB listener.
	Scheme string
	// Target is the ALB's ARN for VPC link V2 (integrationTarget); empty for V1.
	Target string
	// ConnectionID is the VPC link's ID, written into every VPC_LINK integration literally
	// (not as a stage variable) so that API Gateway checks the link when the API is deployed,
	// not at the first request.
	ConnectionID string
	// Host is the name the integrations call: the ALB's (V2) or NLB's (V1) DNS name, or the
	// certificate's name with HTTPS.
	Host string
}

// placeholderRE matches the document's infrastructure placeholders, "${decagon:name}".
var placeholderRE = regexp.MustCompile(`\$\{decagon:([A-Za-z0-9_]+)\}`)

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// ParseDocument parses an OpenAPI document (YAML or JSON).
func ParseDocument(data []byte) (Document, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	if doc == nil || doc["paths"] == nil {
		return nil, errors.New("parse OpenAPI document: no paths")
	}
	return Document(doc), nil
}

// Operations calls fn for each operation, in path then method order.
func (d Document) Operations(fn func(path, method string, op map[string]any)) {
	paths, _ := d["paths"].(map[string]any)
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item, _ := paths[p].(map[string]any)
		for _, m := range httpMethods {
			if op, ok := item[m].(map[string]any); ok {
				fn(p, m, op)
			}
		}
	}
}

// HasOperation reports whether the document defines method (any case) on path.
func (d Document) HasOperation(method, path string) bool {
	paths, _ := d["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	_, ok := item[strings.ToLower(method)].(map[string]any)
	return ok
}

// cognitoScopes are the scopes Amazon Cognito defines itself: a signed-in user's access token
// carries aws.cognito.signin.user.admin, and the OIDC ones come with the authorization code flow.
// They belong to no resource server.
var cognitoScopes = map[string]bool{
	"aws.cognito.signin.user.admin": true, "openid": true, "email": true, "phone": true, "profile": true,
}

// Scopes returns the resource-server scopes any security requirement of the document names,
// sorted: Cognito's own scopes (cognitoScopes) are left out.
func (d Document) Scopes() []string {
	seen := map[string]bool{}
	collect := func(reqs any) {
		list, _ := reqs.([]any)
		for _, r := range list {
			req, _ := r.(map[string]any)
			for _, scopes := range req {
				ss, _ := scopes.([]any)
				for _, s := range ss {
					if str, ok := s.(string); ok && !cognitoScopes[str] {
						seen[str] = true
					}
				}
			}
		}
	}
	collect(d["security"])
	d.Operations(func(_, _ string, op map[string]any) { collect(op["security"]) })
	return slices.Sorted(maps.Keys(seen))
}

// LocalOnly is the operation extension that keeps an operation out of API Gateway: it exists in
// the local stack only (for instance the local file store's signed URLs; in AWS, S3 serves
// them).
const LocalOnly = "x-decagon-local-only"

// Rewrite returns a copy of the document for API Gateway: ${decagon:name} placeholders
// replaced by values (an unknown name is an error), `servers` dropped (API Gateway would take
// a base path from it), operations marked x-decagon-local-only: true dropped, and every VPC_LINK
// integration pointed at the load balancer: its URI's scheme and host set, its connectionId the
// link's ID, and for VPC link V2 its integrationTarget the ALB. No stage variable is left to
// resolve at request time.
func (d Document) Rewrite(values map[string]string, in Integration) (Document, error) {
	var errs []error
	out, _ := substitute(map[string]any(d), values, &errs).(map[string]any)
	delete(out, "servers")
	dropLocalOnly(out)
	Document(out).Operations(func(path, method string, op map[string]any) {
		integ, ok := op["x-amazon-apigateway-integration"].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s %s: no x-amazon-apigateway-integration", strings.ToUpper(method), path))
			return
		}
		if integ["connectionType"] != "VPC_LINK" {
			return
		}
		uri, _ := integ["uri"].(string)
		rest, ok := strings.CutPrefix(uri, "http://")
		if !ok {
			rest, ok = strings.CutPrefix(uri, "https://")
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s %s: integration uri %q is not http(s)", strings.ToUpper(method), path, uri))
			return
		}
		if in.Host != "" {
			_, path, _ := strings.Cut(rest, "/")
			rest = in.Host + "/" + path
		}
		integ["uri"] = in.Scheme + "://" + rest
		if in.ConnectionID != "" {
			integ["connectionId"] = in.ConnectionID
		}
		if in.Target != "" {
			integ["integrationTarget"] = in.Target
		}
	})
	return Document(out), errors.Join(errs...)
}

// dropLocalOnly removes the operations marked LocalOnly, and path items left without one.
func dropLocalOnly(doc map[string]any) {
	paths, _ := doc["paths"].(map[string]any)
	for p, v := range paths {
		item, _ := v.(map[string]any)
		left := 0
		for _, m := range httpMethods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			if op[LocalOnly] == true {
				delete(item, m)
				continue
			}
			left++
		}
		if left == 0 {
			delete(paths, p)
		}
	}
}

// substitute copies v, replacing placeholders in every string.
func substitute(v any, values map[string]string, errs *[]error) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			if k == "description" || k == "summary" {
				m[k] = e // prose may mention placeholders
				continue
			}
			m[k] = substitute(e, values, errs)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = substitute(e, values, errs)
		}
		return l
	case string:
		return placeholderRE.ReplaceAllStringFunc(t, func(m string) string {
			name := placeholderRE.FindStringSubmatch(m)[1]
			val, ok := values[name]
			if !ok {
				known := slices.Sorted(maps.Keys(values))
				*errs = append(*errs, fmt.Errorf("unknown placeholder %s (known: %s)", m, strings.Join(known, ", ")))
				return m
			}
			return val
		})
	default:
		return v
	}
}

// Body is an operation's request body, as the web ACL treats it.
type Body struct {
	// Method is upper case ("POST"); Path is the document's template ("/upload/{upload_id}").
	Method, Path string
	// JSON is true when application/json is the only content type: such a body is inspected
	// and never passes unread. Other bodies (multipart/form-data, */*) are files.
	JSON bool
}

// Bodies returns the request bodies of the operations API Gateway gets, in path then method
// order.
func (d Document) Bodies() []Body {
	var out []Body
	d.Operations(func(path, method string, op map[string]any) {
		if op[LocalOnly] == true {
			return
		}
		rb, _ := op["requestBody"].(map[string]any)
		content, _ := rb["content"].(map[string]any)
		if len(content) == 0 {
			return
		}
		_, json := content["application/json"]
		out = append(out, Body{Method: strings.ToUpper(method), Path: path, JSON: json && len(content) == 1})
	})
	return out
}
