package waf

import (
	"fmt"
	"mime"
	"slices"
	"strings"

	"github.com/decagon/decagon/api"
)

// scope is how a request's body is inspected, told from the operation of api/openapi.yaml it
// addresses and the content type it sends.
type scope int

const (
	// scopeGeneric: no operation of the document (the stage answers 404 or 405), or one that
	// declares no body: the body is inspected up to RequestBodyLimit as CRS expects.
	scopeGeneric scope = iota
	// scopeJSON: a JSON body of an operation that declares JSON: the JSON processor (keys and
	// values are arguments), Body.JSON's limit and oversize handling; a body that does not
	// parse is the stage's 400, not the WAF's 403.
	scopeJSON
	// scopeMultipart: a multipart body of an upload operation: part names, file names and
	// fields are inspected, file contents not; Body.Upload's limit and oversize handling.
	scopeMultipart
	// scopeFile: any other body of an upload operation: a file, data, not inspected (and
	// never parsed as a form). Its URI, query and headers still are.
	scopeFile
	// scopeForm and scopeText: a content type the operation does not declare. In AWS the
	// WAF runs before API Gateway: its body rules read such a body and block an attack (403),
	// and only a clean one reaches the stage's 415. So here too the body is inspected, within
	// Body.JSON's limit and oversize handling, and the type itself is not refused (920420,
	// 920340, 920640: the stage's 415 answers that): a form (application/x-www-form-urlencoded) as
	// its arguments, anything else as text, the whole body one argument (bodytext.go), as AWS
	// WAF's body rules read it.
	scopeForm
	scopeText
)

func (s scope) String() string {
	return [...]string{"generic", "json", "multipart", "file", "undeclared form", "undeclared text"}[s]
}

// operation is one operation of the document, its path split into segments ("{x}" matches
// any one segment) and the media types of its request body.
type operation struct {
	method   string
	segments []string
	media    []string // lower case; empty: no request body
}

// loadOperations reads the document's operations and their request bodies' media types.
func loadOperations() ([]operation, error) {
	doc, err := api.Load()
	if err != nil {
		return nil, fmt.Errorf("waf: %w", err)
	}
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := operation{method: strings.ToUpper(method), segments: strings.Split(strings.Trim(path, "/"), "/")}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt := range op.RequestBody.Value.Content {
					o.media = append(o.media, strings.ToLower(mt))
				}
				slices.Sort(o.media)
			}
			ops = append(ops, o)
		}
	}
	return ops, nil
}

// find returns the operation for method and path. The edge serves each route at /{path} and
// at /{stage}/{path}: a path that matches nothing is tried again without its first segment.
func findOperation(ops []operation, method, path string) *operation {
	if o := matchOperation(ops, method, path); o != nil {
		return o
	}
	p := strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(p, '/'); i > 0 {
		return matchOperation(ops, method, p[i:])
	}
	return nil
}

func matchOperation(ops []operation, method, path string) *operation {
	path = strings.Trim(path, "/")
	for i := range ops {
		o := &ops[i]
		if o.method != method || strings.Count(path, "/")+1 != len(o.segments) {
			continue
		}
		rest, ok := path, true
		for _, seg := range o.segments {
			var got string
			got, rest, _ = strings.Cut(rest, "/")
			if strings.HasPrefix(seg, "{") {
				ok = got != ""
			} else {
				ok = got == seg
			}
			if !ok {
				break
			}
		}
		if ok {
			return o
		}
	}
	return nil
}

// scopeOf tells how a body of contentType sent to o is inspected.
func (o *operation) scopeOf(contentType string) scope {
	if o == nil || len(o.media) == 0 {
		return scopeGeneric
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = ""
	}
	upload := slices.Contains(o.media, "*/*") || slices.Contains(o.media, "multipart/form-data")
	switch {
	case upload && mt == "multipart/form-data":
		return scopeMultipart
	case upload:
		return scopeFile
	case mt != "" && slices.Contains(o.media, mt) && isJSON(mt):
		return scopeJSON
	case mt != "" && slices.Contains(o.media, mt):
		return scopeGeneric
	case mt == "application/x-www-form-urlencoded":
		return scopeForm
	}
	return scopeText
}

func isJSON(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
