package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/utf8json"
)

// DecodeJSON reads the request body as one JSON value into dst: the content type must be
// application/json (415 otherwise), the body at most maxBytes (413), not empty, without unknown
// fields or trailing data (400). Every refusal is a *problem.Problem naming what was wrong.
func DecodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, dst any) error {
	if err := RequireJSON(r); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return problem.Newf(http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", maxBytes)
		}
		return problem.New(http.StatusBadRequest, "could not read request body")
	}
	return DecodeJSONBytes(body, dst)
}

// RequireJSON returns a 415 problem unless the request declares application/json.
func RequireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return problem.New(http.StatusUnsupportedMediaType, "Content-Type must be application/json").
			With("Accept-Post", "application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return problem.New(http.StatusUnsupportedMediaType, "charset must be utf-8")
	}
	return nil
}

// DecodeJSONBytes decodes body strictly into dst; see DecodeJSON.
func DecodeJSONBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return problem.New(http.StatusBadRequest, "request body is empty")
	}
	// encoding/json would replace invalid UTF-8 and escaped lone surrogates with U+FFFD: refuse
	// them instead of storing something the client did not send (RFC 8259 §8.1).
	switch err := utf8json.Check(body); {
	case errors.Is(err, utf8json.ErrInvalidUTF8):
		return problem.New(http.StatusBadRequest, "request body must be UTF-8 (RFC 8259); it holds invalid bytes")
	case errors.Is(err, utf8json.ErrLoneSurrogate):
		return problem.New(http.StatusBadRequest, `request body escapes a lone UTF-16 surrogate (such as "\ud800"), which is not a character`)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if name, ok := unknownField(body, dst); ok {
			return problem.Newf(http.StatusBadRequest, "unknown field %q", name)
		}
		return problem.New(http.StatusBadRequest, describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem.New(http.StatusBadRequest, "request body must hold a single JSON value")
	}
	return nil
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of body"
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return fmt.Sprintf("body must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	default:
		return "malformed JSON"
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	}
	return "another type"
}

// unknownField returns the first top-level key of body that dst, a pointer to a struct, has no
// field for (matched as encoding/json matches: by tag or name, case-insensitively). It names the
// field from the client's own body, never from the decoder's error text.
func unknownField(body []byte, dst any) (string, bool) {
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return "", false
	}
	known := map[string]bool{}
	for f := range t.Elem().Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		known[strings.ToLower(name)] = true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		key, _ := tok.(string)
		if !known[strings.ToLower(key)] {
			return key, true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}
