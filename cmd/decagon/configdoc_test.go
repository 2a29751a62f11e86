package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/topology"
)

// topologyKeys lists every key path decagon.yaml accepts, read from the yaml tags of
// topology.Topology: the decoder rejects any key not among them, so this list is the format.
// Lists are written "[]", map keys "<key>".
func topologyKeys(prefix string, t reflect.Type, keys *[]string) {
	switch t.Kind() {
	case reflect.Pointer:
		topologyKeys(prefix, t.Elem(), keys)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			topologyKeys(prefix+"[]", t.Elem(), keys)
		}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Struct {
			topologyKeys(prefix+".<key>", t.Elem(), keys)
		}
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			*keys = append(*keys, path)
			if f.Type != reflect.TypeFor[struct{}]() {
				topologyKeys(path, f.Type, keys)
			}
		}
	}
}

// docKey is a key path as docs/configuration.md writes it in its tables' first column.
var docKey = regexp.MustCompile("(?m)^\\| `([A-Za-z<>\\[\\].]+)` \\|")

// docs/configuration.md documents every key of decagon.yaml and no key the decoder does not
// accept: it cannot drift from internal/topology.
func TestConfigurationReference(t *testing.T) {
	var keys []string
	topologyKeys("", reflect.TypeFor[topology.Topology](), &keys)
	if len(keys) < 20 {
		t.Fatalf("read %d keys from topology.Topology: %v", len(keys), keys)
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range docKey.FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	accepted := map[string]bool{}
	for _, k := range keys {
		accepted[k] = true
		if !documented[k] {
			t.Errorf("docs/configuration.md does not document %s (a row starting | `%s` |)", k, k)
		}
	}
	var stale []string
	for k := range documented {
		if !accepted[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	for _, k := range stale {
		t.Errorf("docs/configuration.md documents %s, which decagon.yaml does not accept", k)
	}
}
