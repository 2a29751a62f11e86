package edge

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// paramCheck is a parameter whose schema is simple enough to check without kin-openapi and
// without allocating: a string (length, pattern, enum, format uuid) or an integer (bounds).
type paramCheck struct {
	name     string
	in       string // path, query or header
	segment  int    // path parameters: the segment index
	required bool
	integer  bool
	minLen   int
	maxLen   int // -1 for none
	pattern  *regexp.Regexp
	uuid     bool
	enum     []string
	min, max *float64
}

// fastParams are the checks of an operation whose every parameter is simple. They only ever
// say "valid": when they cannot tell or see a problem, kin-openapi validates the request and
// words the error, so the two cannot disagree on a refusal. A differential fuzz test holds
// them to never accept what kin-openapi refuses.
type fastParams []paramCheck

// compileFastParams returns the checks for op's parameters, or nil when one is not simple.
func compileFastParams(e *pathEntry, params openapi3.Parameters) (fastParams, bool) {
	var out fastParams
	for _, ref := range params {
		p := ref.Value
		if p == nil || p.Content != nil || p.Schema == nil || p.Schema.Value == nil || p.AllowEmptyValue {
			return nil, false
		}
		s := p.Schema.Value
		c := paramCheck{name: p.Name, in: p.In, required: p.Required, maxLen: -1, segment: -1}
		switch p.In {
		case openapi3.ParameterInPath:
			for i, name := range e.params {
				if name == p.Name {
					c.segment = i
				}
			}
			if c.segment < 0 {
				return nil, false
			}
		case openapi3.ParameterInQuery, openapi3.ParameterInHeader:
			c.name = p.Name
			if p.In == openapi3.ParameterInHeader {
				c.name = http.CanonicalHeaderKey(p.Name)
			}
		default:
			return nil, false
		}
		if !simpleSchema(s) {
			return nil, false
		}
		switch {
		case s.Type.Is("string"):
			c.minLen = int(s.MinLength)
			if s.MaxLength != nil {
				c.maxLen = int(*s.MaxLength)
			}
			if s.Pattern != "" {
				re, err := regexp.Compile(s.Pattern)
				if err != nil {
					return nil, false
				}
				c.pattern = re
			}
			switch s.Format {
			case "":
			case "uuid":
				c.uuid = true
			default:
				return nil, false
			}
			for _, v := range s.Enum {
				str, ok := v.(string)
				if !ok {
					return nil, false
				}
				c.enum = append(c.enum, str)
			}
		case s.Type.Is("integer"):
			if s.Format != "" && s.Format != "int64" || len(s.Enum) > 0 {
				return nil, false
			}
			c.integer, c.min, c.max = true, s.Min, s.Max
		default:
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// simpleSchema reports whether s uses only the keywords fastParams understand.
func simpleSchema(s *openapi3.Schema) bool {
	return len(s.OneOf) == 0 && len(s.AnyOf) == 0 && len(s.AllOf) == 0 && s.Not == nil &&
		!s.ExclusiveMin.IsSet() && !s.ExclusiveMax.IsSet() && s.MultipleOf == nil && s.Items == nil &&
		len(s.Properties) == 0 && (s.Type.Is("string") || s.Type.Is("integer"))
}

// valid reports whether every parameter is surely valid; false means "ask kin-openapi".
func (fp fastParams) valid(r *http.Request, path string) bool {
	rawQuery := r.URL.RawQuery
	if strings.ContainsAny(rawQuery, "%+;") {
		return false // escapes and separators are kin-openapi's to interpret
	}
	for i := range fp {
		c := &fp[i]
		var v string
		var found bool
		switch c.in {
		case openapi3.ParameterInPath:
			v, found = segment(path, c.segment)
			if strings.IndexByte(v, '%') >= 0 {
				return false
			}
		case openapi3.ParameterInQuery:
			var dup bool
			v, found, dup = queryValue(rawQuery, c.name)
			if dup {
				return false
			}
		default:
			vs := r.Header[c.name]
			if len(vs) > 1 {
				return false
			}
			if found = len(vs) == 1; found {
				v = vs[0]
			}
		}
		if !found {
			if c.required {
				return false
			}
			continue
		}
		if !c.check(v) {
			return false
		}
	}
	return true
}

func (c *paramCheck) check(v string) bool {
	if c.integer {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		return (c.min == nil || float64(n) >= *c.min) && (c.max == nil || float64(n) <= *c.max)
	}
	if n := utf8.RuneCountInString(v); n < c.minLen || c.maxLen >= 0 && n > c.maxLen || !utf8.ValidString(v) {
		return false
	}
	if c.uuid && (uuidFormat{}).Validate(v) != nil {
		return false
	}
	if c.pattern != nil && !c.pattern.MatchString(v) {
		return false
	}
	if len(c.enum) > 0 {
		for _, e := range c.enum {
			if v == e {
				return true
			}
		}
		return false
	}
	return true
}

// segment returns the i-th segment of a clean path.
func segment(path string, i int) (string, bool) {
	rest := path
	for n := 0; ; n++ {
		if len(rest) == 0 {
			return "", false
		}
		rest = rest[1:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			j = len(rest)
		}
		if n == i {
			return rest[:j], true
		}
		rest = rest[j:]
	}
}

// queryValue finds name in a raw query without escapes; dup reports it more than once.
func queryValue(rawQuery, name string) (v string, found, dup bool) {
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, val, _ := strings.Cut(part, "=")
		if k != name {
			continue
		}
		if found {
			return "", true, true
		}
		v, found = val, true
	}
	return v, found, false
}
