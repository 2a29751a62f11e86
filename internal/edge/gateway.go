package edge

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/problem"
)

// ResponseType names a gateway response as API Gateway does.
type ResponseType string

// The gateway responses the edge sends. All but MethodNotAllowed and ServiceUnavailable are
// API Gateway's types, rendered from the document; those two have no API Gateway type (API
// Gateway answers a wrong method like a missing route, and the ALB answers 503 itself) and are
// rendered by the edge in the same shape.
const (
	Unauthorized        ResponseType = "UNAUTHORIZED"
	AccessDenied        ResponseType = "ACCESS_DENIED"
	NotFound            ResponseType = "MISSING_AUTHENTICATION_TOKEN"
	RequestTooLarge     ResponseType = "REQUEST_TOO_LARGE"
	BadRequestBody      ResponseType = "BAD_REQUEST_BODY"
	BadRequestParams    ResponseType = "BAD_REQUEST_PARAMETERS"
	UnsupportedMedia    ResponseType = "UNSUPPORTED_MEDIA_TYPE"
	Throttled           ResponseType = "THROTTLED"
	IntegrationFailure  ResponseType = "INTEGRATION_FAILURE"
	IntegrationTimeout  ResponseType = "INTEGRATION_TIMEOUT"
	AuthorizerFailure   ResponseType = "AUTHORIZER_FAILURE"
	Default4XX          ResponseType = "DEFAULT_4XX"
	Default5XX          ResponseType = "DEFAULT_5XX"
	MethodNotAllowed    ResponseType = "METHOD_NOT_ALLOWED"
	ServiceUnavailable  ResponseType = "SERVICE_UNAVAILABLE"
	gatewayResponsesExt              = "x-amazon-apigateway-gateway-responses"
)

// defaultStatus is API Gateway's status for each type, used when the document gives none.
var defaultStatus = map[ResponseType]int{
	Unauthorized: 401, AccessDenied: 403, NotFound: 403, RequestTooLarge: 413,
	BadRequestBody: 400, BadRequestParams: 400, UnsupportedMedia: 415, Throttled: 429,
	IntegrationFailure: 504, IntegrationTimeout: 504, AuthorizerFailure: 500,
	Default4XX: 400, Default5XX: 500, MethodNotAllowed: 405, ServiceUnavailable: 503,
}

// defaultHeaders are sent when the document declares no value for the header: RFC 6750
// challenges on 401 and 403, and Retry-After on 429 (replaced by the real wait).
var defaultHeaders = map[ResponseType][2]string{
	Unauthorized: {"WWW-Authenticate", `Bearer realm="` + auth.Realm + `"`},
	AccessDenied: {"WWW-Authenticate", `Bearer realm="` + auth.Realm + `", error="insufficient_scope"`},
	Throttled:    {"Retry-After", "1"},
}

// gatewayResponse is one rendered-at-start-up gateway response: its template is split around
// the $context variables so that rendering is appends only.
type gatewayResponse struct {
	status int
	header http.Header
	parts  []string // literal text; len(parts) == len(vars)+1
	vars   []string // variable names between parts, e.g. "context.requestId"
}

// gatewayResponses holds a response per type.
type gatewayResponses map[ResponseType]*gatewayResponse

// parseGatewayResponses reads x-amazon-apigateway-gateway-responses. A type the document does
// not declare falls back to DEFAULT_4XX or DEFAULT_5XX with its own status, as in API Gateway;
// MethodNotAllowed and ServiceUnavailable are built in.
func parseGatewayResponses(ext any) (gatewayResponses, error) {
	declared := map[string]any{}
	if ext != nil {
		m, ok := ext.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want a map, got %T", gatewayResponsesExt, ext)
		}
		declared = m
	}
	out := gatewayResponses{}
	for typ, raw := range declared {
		gr, err := parseGatewayResponse(ResponseType(typ), raw)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", gatewayResponsesExt, typ, err)
		}
		out[ResponseType(typ)] = gr
	}
	for typ, status := range defaultStatus {
		if _, ok := out[typ]; ok {
			continue
		}
		switch {
		case typ == MethodNotAllowed || typ == ServiceUnavailable:
			out[typ] = builtinResponse(status)
		case status < 500 && out[Default4XX] != nil:
			out[typ] = out[Default4XX].withStatus(status)
		case status >= 500 && out[Default5XX] != nil:
			out[typ] = out[Default5XX].withStatus(status)
		default:
			out[typ] = builtinResponse(status)
		}
	}
	for typ, h := range defaultHeaders {
		if out[typ].header.Get(h[0]) == "" {
			out[typ] = out[typ].withHeader(h[0], h[1])
		}
	}
	return out, nil
}

func parseGatewayResponse(typ ResponseType, raw any) (*gatewayResponse, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a map, got %T", raw)
	}
	gr := &gatewayResponse{status: defaultStatus[typ], header: http.Header{}}
	if gr.status == 0 {
		gr.status = 400
	}
	switch sc := m["statusCode"].(type) {
	case nil:
	case float64:
		gr.status = int(sc)
	case string:
		n, err := strconv.Atoi(sc)
		if err != nil {
			return nil, fmt.Errorf("statusCode %q: %w", sc, err)
		}
		gr.status = n
	default:
		return nil, fmt.Errorf("statusCode: want a number, got %T", sc)
	}
	if gr.status < 400 || gr.status > 599 {
		return nil, fmt.Errorf("statusCode %d: want 4xx or 5xx", gr.status)
	}
	if params, ok := m["responseParameters"].(map[string]any); ok {
		for k, v := range params {
			name, ok := strings.CutPrefix(k, "gatewayresponse.header.")
			s, isString := v.(string)
			// Only static values ('...') mean something outside API Gateway.
			if !ok || !isString || len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
				continue
			}
			gr.header.Set(name, s[1:len(s)-1])
		}
	}
	tmpl := ""
	if templates, ok := m["responseTemplates"].(map[string]any); ok {
		tmpl, _ = templates["application/json"].(string)
	}
	if tmpl == "" {
		return builtinResponse(gr.status).withHeaders(gr.header), nil
	}
	gr.parts, gr.vars = splitTemplate(tmpl)
	return gr, nil
}

// builtinResponse is a problem in the document's shape for a status without a template.
func builtinResponse(status int) *gatewayResponse {
	tmpl := `{"type":"about:blank","title":"` + http.StatusText(status) + `","status":` + strconv.Itoa(status) +
		`,"detail":"$context.error.message","request_id":"$context.requestId"}`
	parts, vars := splitTemplate(tmpl)
	return &gatewayResponse{status: status, header: http.Header{}, parts: parts, vars: vars}
}

func (g *gatewayResponse) withStatus(status int) *gatewayResponse {
	c := *g
	c.status = status
	return &c
}

func (g *gatewayResponse) withHeaders(h http.Header) *gatewayResponse {
	c := *g
	c.header = h.Clone()
	return &c
}

func (g *gatewayResponse) withHeader(k, v string) *gatewayResponse {
	c := g.withHeaders(g.header)
	c.header.Set(k, v)
	return c
}

// splitTemplate splits a template around $context.x.y variables.
func splitTemplate(t string) (parts, vars []string) {
	for {
		i := strings.Index(t, "$context.")
		if i < 0 {
			return append(parts, t), vars
		}
		j := i + 1
		for j < len(t) && (t[j] == '.' || t[j] == '_' || t[j] >= 'a' && t[j] <= 'z' || t[j] >= 'A' && t[j] <= 'Z' || t[j] >= '0' && t[j] <= '9') {
			j++
		}
		name := strings.TrimSuffix(t[i+1:j], ".")
		j = i + 1 + len(name)
		parts = append(parts, t[:i])
		vars = append(vars, name)
		t = t[j:]
	}
}

// gatewayError is a refusal: the response type, the $context.error values, extra headers, and
// the reason for the access log.
type gatewayError struct {
	typ        ResponseType
	message    string // $context.error.message and validationErrorString
	header     [][2]string
	logReason  string // the detailed reason, for the log only
	retryAfter int    // seconds, for THROTTLED; 0 keeps the document's value
}

// write sends the gateway response for e.
func (rs gatewayResponses) write(w http.ResponseWriter, requestID string, e *gatewayError) {
	gr := rs[e.typ]
	h := w.Header()
	for k, vs := range gr.header {
		h[k] = vs
	}
	for _, kv := range e.header {
		h.Set(kv[0], kv[1])
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	buf := make([]byte, 0, 256)
	for i, p := range gr.parts {
		buf = append(buf, p...)
		if i < len(gr.vars) {
			buf = appendJSONText(buf, contextVar(gr.vars[i], requestID, e))
		}
	}
	problem.WriteRendered(w, gr.status, nil, append(buf, '\n'))
}

// contextVar is the value of a $context variable for e.
func contextVar(name, requestID string, e *gatewayError) string {
	switch name {
	case "context.requestId", "context.extendedRequestId":
		return requestID
	case "context.error.message", "context.error.validationErrorString", "context.error.messageString":
		if e.message == "" {
			return http.StatusText(defaultStatus[e.typ])
		}
		return e.message
	case "context.error.responseType":
		return string(e.typ)
	}
	return ""
}

// appendJSONText appends s escaped for the inside of a JSON string (without the quotes);
// invalid UTF-8 becomes U+FFFD.
func appendJSONText(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}
