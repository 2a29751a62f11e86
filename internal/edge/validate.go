package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// uuidFormat validates format: uuid as 8-4-4-4-12 hexadecimal digits (any version).
type uuidFormat struct{}

func (uuidFormat) Validate(s string) error {
	if len(s) != 36 {
		return errors.New("not a UUID")
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return errors.New("not a UUID")
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return errors.New("not a UUID")
			}
		}
	}
	return nil
}

// stringFormats are the string formats checked besides kin-openapi's own.
var stringFormats = map[string]openapi3.StringFormatValidator{"uuid": uuidFormat{}}

// filterOptions are the openapi3filter options: the request is never rewritten (no defaults
// filled in, as API Gateway forwards what it got), formats such as uuid are checked, and
// security is left to the authorizer.
func filterOptions(withBody bool) *openapi3filter.Options {
	return &openapi3filter.Options{
		ExcludeRequestBody:  !withBody,
		SkipSettingDefaults: true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidators(stringFormats), // shared: no map per request
		},
	}
}

// hasBody reports whether the request carries a body.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// validate checks the request against op before it is forwarded: the content type, the body
// size and schema, and the parameters, each as the operation's request validator asks. A JSON
// body is read (at most max bytes) so that it can be validated, and forwarded from memory; a
// binary body is streamed through unread, limited to max bytes.
func (e *Edge) validate(x *exchange, r *http.Request, op *operation, entry *pathEntry, path string) *gatewayError {
	withBody := hasBody(r)
	if op.hasBody && (withBody || op.bodyRequired) && op.validateBody && !op.acceptsMediaType(r.Header.Get("Content-Type")) {
		return &gatewayError{typ: UnsupportedMedia, message: "unsupported content type; expected " + strings.Join(op.mediaTypes, " or ")}
	}
	checkBody := op.hasBody && op.validateBody && !op.stream
	if withBody {
		if checkBody {
			data, err := io.ReadAll(io.LimitReader(r.Body, e.maxBody+1))
			if err != nil {
				return &gatewayError{typ: BadRequestBody, message: "could not read the request body", logReason: err.Error()}
			}
			if int64(len(data)) > e.maxBody {
				return &gatewayError{typ: RequestTooLarge, message: "payload limit exceeded"}
			}
			_ = r.Body.Close()
			r.ContentLength = int64(len(data))
			r.Body = io.NopCloser(bytes.NewReader(data))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		} else if !op.localOnly {
			r.Body = &limitedBody{ReadCloser: r.Body, left: e.maxBody, tooLarge: &x.tooLarge}
		}
	}
	if !(op.validateParams && op.hasParams) && !checkBody {
		return nil
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: entry.pathParams(path),
		Route:      op.route,
		Options:    e.filterOpts[boolIndex(checkBody)],
	}
	if !op.validateParams {
		in.Options = e.filterOpts[2]
	}
	err := openapi3filter.ValidateRequest(r.Context(), in)
	if err == nil {
		return nil
	}
	return validationError(err)
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// validationError maps an openapi3filter error to BAD_REQUEST_PARAMETERS or BAD_REQUEST_BODY
// with a one-line message naming the parameter or the body property, never the schema or body.
func validationError(err error) *gatewayError {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return &gatewayError{typ: BadRequestParams, message: "invalid request", logReason: err.Error()}
	}
	reason := re.Reason
	var se *openapi3.SchemaError
	switch {
	case errors.As(err, &se):
		reason = se.Reason
		if ptr := se.JSONPointer(); len(ptr) > 0 {
			reason = fmt.Sprintf("at /%s: %s", strings.Join(ptr, "/"), reason)
		}
	case re.Err != nil && reason == "":
		reason = re.Err.Error()
	case re.Err != nil:
		reason += ": " + re.Err.Error()
	}
	reason = oneLine(reason)
	if re.Parameter != nil {
		return &gatewayError{typ: BadRequestParams, logReason: err.Error(),
			message: fmt.Sprintf("parameter %q in %s: %s", re.Parameter.Name, re.Parameter.In, reason)}
	}
	return &gatewayError{typ: BadRequestBody, logReason: err.Error(), message: "request body: " + reason}
}

// oneLine keeps the first line of s, at most 300 bytes.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strings.TrimSpace(s)
}

// limitedBody fails a streamed body past its limit and records it, so the failed forward is
// answered 413 rather than 502.
type limitedBody struct {
	io.ReadCloser
	left     int64
	tooLarge *bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			*b.tooLarge = true
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

var errBodyTooLarge = errors.New("request body exceeds the payload limit")
