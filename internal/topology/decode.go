package topology

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder fills Go values from a YAML node tree, strictly: unknown and duplicate keys and
// values of the wrong kind are errors naming the key path. It is ours rather than yaml.v3's
// Decode so that every error names the key path, not only the line, and so that all of them
// are reported at once. Values already set (the defaults) are overwritten only by keys present.
type decoder struct {
	errs  []error
	lines map[string]int // key path → line, for validation errors
	depth int
	steps int // nodes visited, bounded so that aliases cannot blow up the work
}

// Limits on the walk: aliases can build deep, cyclic or exponentially large trees.
const (
	maxDepth = 32
	maxSteps = 100_000
)

var durationType = reflect.TypeFor[time.Duration]()

// defaulter is a value that fills its own defaults before keys are decoded into it.
type defaulter interface{ setDefaults() }

func newDecoder() *decoder { return &decoder{lines: map[string]int{}} }

func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Path: path, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// decode fills out (a pointer) from n.
func (d *decoder) decode(path string, n *yaml.Node, out any) {
	d.value(path, n, reflect.ValueOf(out).Elem())
}

func (d *decoder) value(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if !d.enter(path, n) {
		return
	}
	defer func() { d.depth-- }()
	if path != "" {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "key:" with no value keeps the default
	}
	if v.Type() == durationType {
		d.duration(path, n, v)
		return
	}
	if v.Type() == byteSizeType {
		d.byteSize(path, n, v)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structValue(path, n, v)
	case reflect.Slice:
		d.slice(path, n, v)
	case reflect.Map:
		d.mapValue(path, n, v)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n, "must be a string")
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		i, ok := d.integer(path, n)
		if ok {
			v.SetInt(int64(i))
		}
	case reflect.Float64:
		f, ok := d.number(path, n)
		if ok {
			v.SetFloat(f)
		}
	default:
		panic(fmt.Sprintf("topology: cannot decode into %s", v.Type()))
	}
}

func (d *decoder) structValue(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping")
		return
	}
	fields := map[string]int{}
	var known []string
	for i := range v.NumField() {
		tag := v.Type().Field(i).Tag.Get("yaml")
		if tag != "" {
			fields[tag] = i
			known = append(known, tag)
		}
	}
	// Merge keys ("<<: *defaults") first, so that the mapping's own keys override them.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, val := n.Content[i], n.Content[i+1]; k.Tag == "!!merge" {
			d.merge(path, val, v)
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		kp := join(path, key)
		if k.Tag == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k, "keys must be strings")
			continue
		}
		if seen[key] {
			d.fail(kp, k, "duplicate key")
			continue
		}
		seen[key] = true
		idx, ok := fields[key]
		if !ok {
			d.fail(kp, k, "unknown key (known: %s)", strings.Join(known, ", "))
			continue
		}
		d.value(kp, val, v.Field(idx))
	}
}

// merge decodes the value of a merge key: a mapping or a list of mappings.
func (d *decoder) merge(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if !d.enter(path, n) {
		return
	}
	defer func() { d.depth-- }()
	switch n.Kind {
	case yaml.MappingNode:
		d.structValue(path, n, v)
	case yaml.SequenceNode:
		for _, m := range n.Content {
			d.merge(path, m, v)
		}
	default:
		d.fail(path, n, "merge key (<<) must refer to a mapping")
	}
}

// enter counts a step into n; it reports false (once) when the walk is too deep or too long.
func (d *decoder) enter(path string, n *yaml.Node) bool {
	d.steps++
	if d.steps == maxSteps+1 {
		d.fail(path, n, "document too large or too many aliases")
	}
	if d.steps > maxSteps {
		return false
	}
	if d.depth >= maxDepth {
		d.fail(path, n, "nested too deeply")
		return false
	}
	d.depth++
	return true
}

func (d *decoder) slice(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "must be a list")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		e := s.Index(i)
		if df, ok := e.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.value(fmt.Sprintf("%s[%d]", path, i), item, e)
	}
	v.Set(s)
}

func (d *decoder) mapValue(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping")
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := fmt.Sprintf("%s[%q]", path, k.Value)
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k, "keys must be strings")
			continue
		}
		key := reflect.ValueOf(k.Value)
		if m.MapIndex(key).IsValid() {
			d.fail(kp, k, "duplicate key")
			continue
		}
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(kp, val, e)
		m.SetMapIndex(key, e)
	}
	v.Set(m)
}

func (d *decoder) integer(path string, n *yaml.Node) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.fail(path, n, "must be an integer, got %q", n.Value)
		return 0, false
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
		d.fail(path, n, "integer %q out of range", n.Value)
		return 0, false
	}
	return int(i), true
}

func (d *decoder) number(path string, n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		d.fail(path, n, "must be a number, got %q", n.Value)
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.fail(path, n, "invalid number %q", n.Value)
		return 0, false
	}
	return f, true
}

func (d *decoder) duration(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.fail(path, n, "must be a duration with a unit, like \"30s\", got %q", n.Value)
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(path, n, "invalid duration %q (want a number with a unit, like \"30s\")", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// join appends a key to a key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
